/** Validation of WSS method params; every check returns a table error instead of throwing. */
import { hasOwn, isRecord } from '../../protocol/guards.js';
import { WSS_ERRORS, type WssErrorEntry } from './messages.js';

/** Longest accepted user token. */
export const MAX_USER_TOKEN_LENGTH = 256;
/** Longest accepted private ID for `setPID`. */
export const MAX_PRIVATE_ID_LENGTH = 128;

/** A parsed value or the error to answer with. */
export type Checked<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: WssErrorEntry };

const ok = <T>(value: T): Checked<T> => ({ ok: true, value });
const bad = <T>(error: WssErrorEntry): Checked<T> => ({ ok: false, error });

/** The two tokens every post-handshake request carries. */
export interface Tokens {
  readonly userToken: string;
  readonly serverToken: string;
}

/** Reads `user_token` and `server_token`; `null` when either is not a non-empty string. */
export function readTokens(params: Record<string, unknown>): Tokens | null {
  const { user_token: userToken, server_token: serverToken } = params;
  if (typeof userToken !== 'string' || userToken === '' || typeof serverToken !== 'string' || serverToken === '') {
    return null;
  }
  return { userToken, serverToken };
}

export function readUserToken(params: Record<string, unknown>): Checked<string> {
  const token = params.user_token;
  if (typeof token !== 'string' || token === '' || token.length > MAX_USER_TOKEN_LENGTH) {
    return bad(WSS_ERRORS.badUserToken);
  }
  return ok(token);
}

/** Recipients of a `WSS_Send`: broadcast with exclusions or direct to a list (duplicates folded). */
export type SendTarget =
  | { readonly type: 'broadcast'; readonly exclude: ReadonlySet<string> }
  | { readonly type: 'direct'; readonly to: ReadonlySet<string> };

function readRcp(list: unknown, notArray: WssErrorEntry, notStrings: WssErrorEntry): Checked<Set<string>> {
  if (!Array.isArray(list)) return bad(notArray);
  if (!list.every((id) => typeof id === 'string')) return bad(notStrings);
  return ok(new Set(list as string[]));
}

function readDirect(params: Record<string, unknown>): Checked<SendTarget> {
  if (!hasOwn(params, 'to') || params.to === undefined || params.to === null) return bad(WSS_ERRORS.missingTo);
  if (!isRecord(params.to)) return bad(WSS_ERRORS.toNotObject);
  const to = readRcp(params.to.rcp, WSS_ERRORS.rcpNotArray, WSS_ERRORS.rcpNotStrings);
  return to.ok ? ok({ type: 'direct', to: to.value }) : to;
}

function readBroadcast(params: Record<string, unknown>): Checked<SendTarget> {
  const exclude = params.exclude;
  if (exclude === undefined || exclude === null) return ok({ type: 'broadcast', exclude: new Set() });
  if (!isRecord(exclude)) return bad(WSS_ERRORS.badExclude);
  const list = readRcp(exclude.rcp, WSS_ERRORS.badExclude, WSS_ERRORS.badExclude);
  return list.ok ? ok({ type: 'broadcast', exclude: list.value }) : list;
}

/** Reads the `type`, `to` and `exclude` members of `WSS_Send` params. */
export function readSendTarget(params: Record<string, unknown>): Checked<SendTarget> {
  const type = params.type;
  if (type === undefined || type === null) return bad(WSS_ERRORS.missingType);
  // The legacy server compared the type case-insensitively; keep accepting "Broadcast".
  const kind = typeof type === 'string' ? type.toLowerCase() : '';
  if (kind === 'direct') return readDirect(params);
  if (kind === 'broadcast') return readBroadcast(params);
  return bad(WSS_ERRORS.unknownType);
}

/** A usable private ID: 1..128 characters, no control characters. */
export function isValidPrivateId(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length > 0 &&
    value.length <= MAX_PRIVATE_ID_LENGTH &&
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused
    !/[\u0000-\u001f\u007f]/.test(value)
  );
}
