/** Maps the 0.4.1 address rules onto the typed client's `url` / `handshakeUrl` options. */
import { InvalidArgumentError } from '../src/errors.js';

/** The typed client's address options for one `connect()`. */
export interface ResolvedAddresses {
  url: string;
  handshakeUrl?: string;
}

const toScheme = (address: string, from: RegExp, to: (secure: boolean) => string): string =>
  address.replace(from, (_, s: string | undefined) => to(s === 's'));

/** `http(s)://` becomes `ws(s)://`; other addresses are returned as they are. */
export function toSocketUrl(address: string): string {
  return toScheme(address.trim(), /^http(s?):\/\//i, (secure) => (secure ? 'wss://' : 'ws://'));
}

/** `ws(s)://` becomes `http(s)://`; other addresses are returned as they are. */
export function toHttpUrl(address: string): string {
  return toScheme(address.trim(), /^ws(s?):\/\//i, (secure) => (secure ? 'https://' : 'http://'));
}

/**
 * Where to handshake and connect, as 0.4.1 did: with `useHTTPHandshake` the handshake is a
 * POST to the handshake address and the socket opens at the socket address (or, if none was
 * given, at the handshake address); otherwise both happen on one socket at the handshake address.
 * @throws {InvalidArgumentError} when there is no handshake address.
 */
export function resolveAddresses(handshakeAddr: string | null, socketAddr: string | null, useHTTPHandshake: boolean): ResolvedAddresses {
  if (typeof handshakeAddr !== 'string' || handshakeAddr.trim() === '') {
    throw new InvalidArgumentError('No handshake or socket server address provided: pass one to the constructor or to connect()');
  }
  if (!useHTTPHandshake) return { url: toSocketUrl(handshakeAddr) };
  const socket = typeof socketAddr === 'string' && socketAddr.trim() !== '' ? socketAddr : handshakeAddr;
  return { url: toSocketUrl(socket), handshakeUrl: toHttpUrl(handshakeAddr) };
}
