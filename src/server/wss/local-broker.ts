/**
 * The in-process {@link Broker}: one node holds every handshake and session.
 * Every step runs to its end synchronously, so steps never interleave and
 * deliveries keep call order; the promises only keep the async contract.
 */
import { DeadlineQueue } from '../transport/deadlines.js';
import type { Frame } from '../transport/frame.js';
import type {
  Broker,
  HandshakeClaim,
  HandshakeOpened,
  HandshakeView,
  JoinOutcome,
  JoinRequest,
  Mailbox,
  RenameOutcome,
} from './broker.js';
import { PeerCache } from './peer-cache.js';

/** One handshake record. */
interface HandshakeRecord {
  readonly key: string;
  readonly ipKey: string;
  readonly serverToken: string;
  privateId: string | null;
}

/** One connected session. */
interface Presence {
  privateId: string;
  readonly record: HandshakeRecord;
  readonly optionsJson: string;
  readonly mailbox: Mailbox;
}

function recordKey(ipKey: string, userToken: string): string {
  return `${ipKey}\n${userToken}`;
}

const view = (record: HandshakeRecord): HandshakeView => ({
  serverToken: record.serverToken,
  privateId: record.privateId,
});

/** Handshakes, sessions and deliveries of a single node. */
export class LocalBroker implements Broker {
  readonly #handshakes = new Map<string, HandshakeRecord>();
  readonly #perIp = new Map<string, number>();
  /** Sessions by private ID, in join order. */
  readonly #sessions = new Map<string, Presence>();
  readonly #peers = new PeerCache(() => this.#sessions.values());
  /** Pending records' expiry, one queue per TTL (in practice one). */
  readonly #expiry = new Map<number, DeadlineQueue<HandshakeRecord>>();
  readonly #onExpire: (ipKey: string) => void;

  /** @param onExpire told when a pending handshake of `ipKey` expired (for a log line). */
  constructor(onExpire: (ipKey: string) => void = () => {}) {
    this.#onExpire = onExpire;
  }

  async openHandshake(claim: HandshakeClaim): Promise<HandshakeOpened> {
    const key = recordKey(claim.ipKey, claim.userToken);
    if (this.#handshakes.has(key)) return { ok: false, reason: 'exists' };
    const perIp = this.#perIp.get(claim.ipKey) ?? 0;
    if (perIp >= claim.maxPerIp) return { ok: false, reason: 'limit', perIp };
    const record: HandshakeRecord = { key, ipKey: claim.ipKey, serverToken: claim.serverToken, privateId: null };
    this.#handshakes.set(key, record);
    this.#perIp.set(claim.ipKey, perIp + 1);
    if (claim.ttlMs > 0) this.#expiryQueue(claim.ttlMs).add(record);
    return { ok: true, perIp: perIp + 1, total: this.#handshakes.size };
  }

  async findHandshake(ipKey: string, userToken: string): Promise<HandshakeView | null> {
    const record = this.#handshakes.get(recordKey(ipKey, userToken));
    return record ? view(record) : null;
  }

  async dropHandshake(ipKey: string, userToken: string): Promise<void> {
    const record = this.#handshakes.get(recordKey(ipKey, userToken));
    if (record && record.privateId === null) this.#drop(record);
  }

  async join(request: JoinRequest): Promise<JoinOutcome> {
    const record = this.#handshakes.get(recordKey(request.ipKey, request.userToken));
    if (!record) return { ok: false, reason: 'no-handshake' };
    if (record.serverToken !== request.serverToken) return { ok: false, reason: 'token-mismatch' };
    if (record.privateId !== null) return { ok: false, reason: 'bound' };
    if (this.#sessions.has(request.privateId)) return { ok: false, reason: 'taken' };
    const peers = this.#peers.snapshot();
    for (const peer of this.#sessions.values()) peer.mailbox.deliver(request.announce);
    this.#stopExpiry(record);
    record.privateId = request.privateId;
    const presence: Presence = {
      privateId: request.privateId,
      record,
      optionsJson: request.optionsJson,
      mailbox: request.mailbox,
    };
    this.#sessions.set(request.privateId, presence);
    this.#peers.added(presence);
    return { ok: true, peers };
  }

  async rename(from: string, to: string, announce: Frame): Promise<RenameOutcome> {
    const presence = this.#sessions.get(from);
    if (!presence) return 'gone';
    if (this.#sessions.has(to)) return 'taken';
    this.#sessions.delete(from);
    presence.privateId = to;
    presence.record.privateId = to;
    this.#sessions.set(to, presence);
    this.#peers.invalidate();
    for (const peer of this.#sessions.values()) if (peer !== presence) peer.mailbox.deliver(announce);
    return 'renamed';
  }

  async leave(privateId: string, announce: Frame | null): Promise<void> {
    const presence = this.#sessions.get(privateId);
    if (!presence) return;
    this.#sessions.delete(privateId);
    this.#peers.invalidate();
    this.#drop(presence.record);
    if (announce) for (const peer of this.#sessions.values()) peer.mailbox.deliver(announce);
  }

  async broadcast(from: string, frame: Frame, exclude: ReadonlySet<string>): Promise<void> {
    if (exclude.size === 0) {
      for (const peer of this.#sessions.values()) if (peer.privateId !== from) peer.mailbox.deliver(frame);
      return;
    }
    for (const peer of this.#sessions.values()) {
      if (peer.privateId !== from && !exclude.has(peer.privateId)) peer.mailbox.deliver(frame);
    }
  }

  async direct(to: ReadonlySet<string>, frame: Frame): Promise<readonly string[]> {
    const unknown: string[] = [];
    for (const id of to) {
      const peer = this.#sessions.get(id);
      if (peer) peer.mailbox.deliver(frame);
      else unknown.push(id);
    }
    return unknown;
  }

  async sessionCount(): Promise<number> {
    return this.#sessions.size;
  }

  async close(): Promise<void> {
    for (const queue of this.#expiry.values()) queue.clear();
    this.#expiry.clear();
    this.#handshakes.clear();
    this.#perIp.clear();
    this.#sessions.clear();
    this.#peers.invalidate();
  }

  #expiryQueue(ttl: number): DeadlineQueue<HandshakeRecord> {
    let queue = this.#expiry.get(ttl);
    if (!queue) {
      queue = new DeadlineQueue(ttl, (record) => {
        if (record.privateId !== null || this.#handshakes.get(record.key) !== record) return;
        this.#drop(record);
        this.#onExpire(record.ipKey);
      });
      this.#expiry.set(ttl, queue);
    }
    return queue;
  }

  #stopExpiry(record: HandshakeRecord): void {
    for (const queue of this.#expiry.values()) queue.delete(record);
  }

  #drop(record: HandshakeRecord): void {
    if (this.#handshakes.get(record.key) !== record) return;
    this.#stopExpiry(record);
    this.#handshakes.delete(record.key);
    const left = (this.#perIp.get(record.ipKey) ?? 1) - 1;
    if (left > 0) this.#perIp.set(record.ipKey, left);
    else this.#perIp.delete(record.ipKey);
  }
}
