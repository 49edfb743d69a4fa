/** Maps the 0.4.1 address rules onto the typed client's `url` / `handshakeUrl` options. */
import { describe } from '../src/client/args.js';
import { InvalidArgumentError } from '../src/errors.js';

/** The typed client's address options for one `connect()`. */
export interface ResolvedAddresses {
  url: string;
  handshakeUrl?: string;
}

/**
 * An address argument as 0.4.1 took it: a string, or `null`/`undefined` for none.
 * @throws {InvalidArgumentError} naming the argument, for anything else (0.4.1 ignored an object or failed later).
 */
export function addressArgument(name: string, value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') {
    throw new InvalidArgumentError(
      `'${name}' must be a ws(s):// or http(s):// address as a string, or null; got ${describe(value)}`,
    );
  }
  return value;
}

/** `http(s)://` becomes `ws(s)://`; other addresses are returned as they are. */
export const toSocketUrl = (address: string): string =>
  address.trim().replace(/^http(s?):\/\//i, (_, s: string) => `ws${s.toLowerCase()}://`);

/** `ws(s)://` becomes `http(s)://`; other addresses are returned as they are. */
export const toHttpUrl = (address: string): string =>
  address.trim().replace(/^ws(s?):\/\//i, (_, s: string) => `http${s.toLowerCase()}://`);

/**
 * Where to handshake and connect, as 0.4.1 did: with `useHTTPHandshake` the handshake is a
 * POST to the handshake address and the socket opens at the socket address (or, if none was
 * given, at the handshake address); otherwise both happen on one socket at the handshake address.
 * @throws {InvalidArgumentError} when there is no handshake address.
 */
export function resolveAddresses(
  handshakeAddr: string | null,
  socketAddr: string | null,
  useHTTPHandshake: boolean,
): ResolvedAddresses {
  if (!handshakeAddr?.trim()) {
    throw new InvalidArgumentError(
      'No handshake or socket server address provided: pass one to new WSSClient() or connect()',
    );
  }
  if (!useHTTPHandshake) return { url: toSocketUrl(handshakeAddr) };
  return { url: toSocketUrl(socketAddr?.trim() ? socketAddr : handshakeAddr), handshakeUrl: toHttpUrl(handshakeAddr) };
}
