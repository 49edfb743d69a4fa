/** Who is at the other end of a request or socket, as the limits and the WSS protocol see it. */
import type { IncomingMessage } from 'node:http';

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

/** The client of a request: its IP key (for limits and handshakes) and `address:port` (for log lines). */
export function clientOf(req: IncomingMessage): { ipKey: string; label: string } {
  const address = req.socket.remoteAddress ?? 'unknown';
  const family = req.socket.remoteFamily ?? 'unknown';
  return { ipKey: ipKeyOf({ family, address }), label: `${address}:${req.socket.remotePort ?? '?'}` };
}
