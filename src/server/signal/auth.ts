/** Bearer token checks of the Signal endpoint: HS256 JWTs through `jose`. */
import { jwtVerify } from 'jose';
import { isRecord } from '../../protocol/guards.js';

/** What a valid token gives. */
export interface TokenClaims {
  /** The token's `sub`. */
  userId: string;
  /** The token's `exp` in ms since the epoch, when it has one. */
  expiresAt: number | undefined;
}

/** Why a token was refused: `expired`, or `invalid` for everything else. */
export type TokenProblem = { readonly kind: 'expired' | 'invalid'; readonly message: string };

/** Longest token accepted, in characters. */
export const MAX_TOKEN_LENGTH = 8192;

/** Verifies an HS256 JWT; resolves with its claims or with why it was refused (never rejects). */
export async function verifyBearer(token: string, secret: Uint8Array): Promise<TokenClaims | TokenProblem> {
  if (token.length > MAX_TOKEN_LENGTH)
    return { kind: 'invalid', message: `token is longer than ${MAX_TOKEN_LENGTH} characters` };
  try {
    const { payload } = await jwtVerify(token, secret, { algorithms: ['HS256'] });
    if (typeof payload.sub !== 'string' || payload.sub === '')
      return { kind: 'invalid', message: "token has no 'sub' claim" };
    return { userId: payload.sub, expiresAt: typeof payload.exp === 'number' ? payload.exp * 1000 : undefined };
  } catch (err) {
    const expired = isRecord(err) && err.code === 'ERR_JWT_EXPIRED';
    return expired
      ? { kind: 'expired', message: 'token has expired; refresh it and reconnect' }
      : { kind: 'invalid', message: 'token is not a valid HS256 JWT for this server' };
  }
}
