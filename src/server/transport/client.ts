/** Who is at the other end of a request or socket, as the limits and the WSS protocol see it. */
import type { IncomingMessage } from 'node:http';
import { clientAddress, trustedProxies } from '../forwarded.js';

/** A client's network identity as the legacy server saw it: address family + IP, no port. */
export interface ClientAddress {
  readonly family: string;
  readonly address: string;
}

/** The key the legacy server ties handshakes to: family and IP, IPv4-mapped IPv6 folded to IPv4. */
export function ipKeyOf(client: ClientAddress): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(client.address);
  return mapped ? `IPv4:${mapped[1]}` : `${client.family}:${client.address}`;
}

/** Who sent a request, as {@link clientOf} resolved it. */
export interface RequestClient {
  /** The key of the per-IP limits and of the handshakes (see {@link ipKeyOf}). */
  readonly ipKey: string;
  /** `address:port` for log lines; `client via proxy:port` behind a trusted proxy. */
  readonly label: string;
}

/**
 * The client of a request: its IP key (for limits and handshakes) and
 * `address:port` (for log lines). Behind a proxy listed in `trustProxy`, the
 * address is the client's from `X-Forwarded-For` (the label names both).
 */
export function clientOf(req: IncomingMessage, trustProxy: readonly string[] = []): RequestClient {
  const peer = { family: req.socket.remoteFamily ?? 'unknown', address: req.socket.remoteAddress ?? 'unknown' };
  const label = `${peer.address}:${req.socket.remotePort ?? '?'}`;
  if (trustProxy.length === 0) return { ipKey: ipKeyOf(peer), label };
  const client = clientAddress(peer, req.headers['x-forwarded-for'], trustedProxies(trustProxy));
  return { ipKey: ipKeyOf(client), label: client === peer ? label : `${client.address} via ${label}` };
}
