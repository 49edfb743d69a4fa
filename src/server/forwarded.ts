/**
 * The client's address behind a reverse proxy. The WSS protocol ties a
 * handshake (and the per-IP limit) to the client's IP; behind HAProxy every
 * TCP peer is the proxy, so the address must come from `X-Forwarded-For`,
 * but only when the peer is a proxy the operator named (`trustProxy`):
 * anyone else could write any address into that header.
 */
import { isIP } from 'node:net';
import { InvalidArgumentError } from '../errors.js';

/** An IP address and its family, as `ipKeyOf` keys it. */
export interface PeerAddress {
  readonly family: string;
  readonly address: string;
}

/** Most `X-Forwarded-For` entries read (from the right); a longer chain is cut there. */
export const MAX_FORWARDED_HOPS = 16;

/** `::ffff:1.2.3.4` is `1.2.3.4`; everything else as written. */
function canonical(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped?.[1] ?? address.toLowerCase();
}

function familyOf(address: string): string {
  return isIP(address) === 6 ? 'IPv6' : 'IPv4';
}

const sets = new WeakMap<readonly string[], ReadonlySet<string>>();

/**
 * The trusted proxies as a set of canonical addresses (made once per list).
 * @throws InvalidArgumentError naming `option` when an entry is not an IP address.
 */
export function trustedProxies(list: readonly string[], option = 'trustProxy'): ReadonlySet<string> {
  const made = sets.get(list);
  if (made) return made;
  if (!Array.isArray(list))
    throw new InvalidArgumentError(`Server option '${option}' must be an array of IP addresses`);
  const set = new Set<string>();
  for (const entry of list) {
    if (typeof entry !== 'string' || isIP(entry.trim()) === 0) {
      throw new InvalidArgumentError(
        `Server option '${option}' must list IP addresses of proxies (such as '127.0.0.1'); got ${JSON.stringify(entry)}`,
      );
    }
    set.add(canonical(entry.trim()));
  }
  sets.set(list, set);
  return set;
}

/**
 * The client's address: the TCP peer, unless the peer is a trusted proxy and
 * `X-Forwarded-For` names someone. Then the header is read from the right
 * (each proxy appends the address it saw), skipping trusted proxies, and the
 * first other address is the client. A header with an entry that is not an
 * IP address is not believed at all (the peer is the client then).
 */
export function clientAddress(
  peer: PeerAddress,
  forwardedFor: string | string[] | undefined,
  trusted: ReadonlySet<string>,
): PeerAddress {
  if (trusted.size === 0 || forwardedFor === undefined || !trusted.has(canonical(peer.address))) return peer;
  const header = Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor;
  const hops = header
    .split(',')
    .slice(-MAX_FORWARDED_HOPS)
    .map((hop) => hop.trim());
  if (hops.some((hop) => isIP(hop) === 0)) return peer;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = canonical(hops[i] as string);
    if (!trusted.has(hop)) return { family: familyOf(hop), address: hop };
  }
  return peer;
}
