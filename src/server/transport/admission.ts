/**
 * Admission of WebSocket upgrades on every path of the shared port, before
 * any endpoint sees the socket: the `Origin` check, the per-IP socket cap and
 * the refusal while the server drains. Refusals are plain HTTP answers, so a
 * refused client never costs a WebSocket.
 */
import type { IncomingMessage } from 'node:http';

/** The answer to an upgrade that is not admitted. */
export interface Refusal {
  readonly status: number;
  readonly reason: string;
}

/** What {@link Admission} enforces. */
export interface AdmissionLimits {
  /** Origins allowed to open a socket, or `'*'` for any. A request without an `Origin` header is allowed. */
  readonly allowedOrigins: '*' | readonly string[];
  /** Open sockets allowed per client IP, over all WebSocket paths. */
  readonly maxSocketsPerIp: number;
}

/** Counts open sockets per IP and decides whether a new one may open. */
export class Admission {
  readonly #limits: AdmissionLimits;
  readonly #origins: ReadonlySet<string> | null;
  readonly #open = new Map<string, number>();

  constructor(limits: AdmissionLimits) {
    this.#limits = limits;
    this.#origins = limits.allowedOrigins === '*' ? null : new Set(limits.allowedOrigins);
  }

  /** Why `req` may not open a socket, or `null` when it may. */
  check(req: IncomingMessage, ipKey: string): Refusal | null {
    const origin = req.headers.origin;
    if (this.#origins !== null && origin !== undefined && !this.#origins.has(origin)) {
      return { status: 403, reason: `Origin ${origin.slice(0, 200)} is not allowed (allowedOrigins)` };
    }
    if ((this.#open.get(ipKey) ?? 0) >= this.#limits.maxSocketsPerIp) {
      return { status: 429, reason: `Too many sockets from your IP (maxSocketsPerIp ${this.#limits.maxSocketsPerIp})` };
    }
    return null;
  }

  /** Counts an accepted socket until `release` is called for it. */
  opened(ipKey: string): void {
    this.#open.set(ipKey, (this.#open.get(ipKey) ?? 0) + 1);
  }

  released(ipKey: string): void {
    const left = (this.#open.get(ipKey) ?? 1) - 1;
    if (left > 0) this.#open.set(ipKey, left);
    else this.#open.delete(ipKey);
  }

  /** Open sockets from one IP. */
  openFrom(ipKey: string): number {
    return this.#open.get(ipKey) ?? 0;
  }
}
