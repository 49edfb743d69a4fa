/**
 * The WSS session registry: handshakes keyed by client IP + user token,
 * connected sessions keyed by private ID, a per-IP handshake count. Every
 * lookup is a Map access.
 */
import { createHash, randomBytes } from 'node:crypto';

/** A client's network identity as the legacy server saw it: address family + IP, no port. */
export interface ClientAddress {
  readonly family: string;
  readonly address: string;
}

/** One accepted `WSS_Handshake`. */
export interface HandshakeRecord<C> {
  readonly key: string;
  readonly ipKey: string;
  readonly userToken: string;
  readonly serverToken: string;
  /** The socket that made the handshake, or `null` for HTTP. */
  readonly owner: C | null;
  session: SessionRecord<C> | null;
  expiry: NodeJS.Timeout | null;
}

/** One connected session (a handshake bound to a socket by `WSS_Connect`). */
export interface SessionRecord<C> {
  privateId: string;
  readonly handshake: HandshakeRecord<C>;
  readonly conn: C;
  /** The `WSS_Connect` options exactly as the client sent them. */
  readonly options: Record<string, unknown>;
}

/**
 * Lowercase hex SHA-256 of `server_token + ":" + user_token`, as PROTOCOL.md
 * defines the private ID. Synchronous (node:crypto, not WebCrypto) so that a
 * handler runs to its end in one turn and pushes keep their order.
 */
export function derivePrivateId(serverToken: string, userToken: string): string {
  return createHash('sha256').update(`${serverToken}:${userToken}`, 'utf8').digest('hex');
}

/** The key the legacy server ties handshakes to: family and IP, IPv4-mapped IPv6 folded to IPv4. */
export function ipKeyOf(client: ClientAddress): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(client.address);
  return mapped ? `IPv4:${mapped[1]}` : `${client.family}:${client.address}`;
}

/** Session state of one WSS endpoint. `C` is the endpoint's per-socket connection type. */
export class SessionRegistry<C> {
  readonly #handshakes = new Map<string, HandshakeRecord<C>>();
  readonly #perIp = new Map<string, number>();
  readonly #sessions = new Map<string, SessionRecord<C>>();

  /** Number of handshakes (pending or connected) from one IP. */
  countForIp(ipKey: string): number {
    return this.#perIp.get(ipKey) ?? 0;
  }

  /** Number of connected sessions. */
  get sessionCount(): number {
    return this.#sessions.size;
  }

  /** Connected sessions in connection order. */
  sessions(): IterableIterator<SessionRecord<C>> {
    return this.#sessions.values();
  }

  findHandshake(ipKey: string, userToken: string): HandshakeRecord<C> | undefined {
    return this.#handshakes.get(handshakeKey(ipKey, userToken));
  }

  findSession(privateId: string): SessionRecord<C> | undefined {
    return this.#sessions.get(privateId);
  }

  /** Records a handshake with a fresh 64-hex-digit server token. */
  addHandshake(ipKey: string, userToken: string, owner: C | null): HandshakeRecord<C> {
    const record: HandshakeRecord<C> = {
      key: handshakeKey(ipKey, userToken),
      ipKey,
      userToken,
      serverToken: randomBytes(32).toString('hex'),
      owner,
      session: null,
      expiry: null,
    };
    this.#handshakes.set(record.key, record);
    this.#perIp.set(ipKey, this.countForIp(ipKey) + 1);
    return record;
  }

  /** Drops a pending handshake after `ms` unless it is connected or removed first. */
  expireLater(record: HandshakeRecord<C>, ms: number, onExpire: (record: HandshakeRecord<C>) => void): void {
    record.expiry = setTimeout(() => {
      record.expiry = null;
      if (record.session === null && this.#handshakes.get(record.key) === record) {
        this.removeHandshake(record);
        onExpire(record);
      }
    }, ms);
    record.expiry.unref();
  }

  /** Binds a handshake to a socket; the caller has checked the private ID is free. */
  bind(record: HandshakeRecord<C>, privateId: string, conn: C, options: Record<string, unknown>): SessionRecord<C> {
    clearExpiry(record);
    const session: SessionRecord<C> = { privateId, handshake: record, conn, options };
    record.session = session;
    this.#sessions.set(privateId, session);
    return session;
  }

  /** Moves a session to a new private ID; the caller has checked the new ID is free. */
  rename(session: SessionRecord<C>, newId: string): void {
    this.#sessions.delete(session.privateId);
    session.privateId = newId;
    this.#sessions.set(newId, session);
  }

  /** Drops a handshake and its session, if any. Returns the dropped session. */
  removeHandshake(record: HandshakeRecord<C>): SessionRecord<C> | null {
    if (this.#handshakes.get(record.key) !== record) return null;
    clearExpiry(record);
    this.#handshakes.delete(record.key);
    const left = this.countForIp(record.ipKey) - 1;
    if (left > 0) this.#perIp.set(record.ipKey, left);
    else this.#perIp.delete(record.ipKey);
    const session = record.session;
    if (session && this.#sessions.get(session.privateId) === session) this.#sessions.delete(session.privateId);
    return session;
  }

  /** Drops everything and stops every expiry timer. */
  clear(): void {
    for (const record of this.#handshakes.values()) clearExpiry(record);
    this.#handshakes.clear();
    this.#perIp.clear();
    this.#sessions.clear();
  }
}

function handshakeKey(ipKey: string, userToken: string): string {
  return `${ipKey}\n${userToken}`;
}

function clearExpiry(record: HandshakeRecord<unknown>): void {
  if (record.expiry !== null) clearTimeout(record.expiry);
  record.expiry = null;
}
