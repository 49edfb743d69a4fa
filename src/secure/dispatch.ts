/**
 * Where messages go and where they come from, between the session's API and
 * the wire: sends to peers that run reliable delivery go to {@link Delivery},
 * the rest to the {@link Outbox} (at most once); requests get their answers;
 * extended envelopes' items become `message` events, handled requests and
 * settled answers. Spec §6 and §11.
 */
import {
  ConnectionClosedError,
  InvalidArgumentError,
  InvalidStateError,
  ProtocolError,
  type WssError,
} from '../errors.js';
import type { PushMessage } from '../protocol/wss.js';
import type { RequestOptions } from '../transport/rpc-channel.js';
import { abortable, throwIfAborted } from '../util/abort.js';
import type { Logger } from '../util/logger.js';
import type { Delivery } from './delivery.js';
import type { UndeliveredEvent } from './events.js';
import { type Item, type ItemKind, itemJson, toJson } from './frames.js';
import type { Emit } from './link.js';
import type { BroadcastResult, Outbox } from './outbox.js';
import { advertises, noPeer, type PeerEntry, type PeerTable, usable } from './peers.js';
import type { Extended, Refusal } from './receive.js';
import type { PeerRequestOptions, Requests } from './requests.js';
import type { PeerSession, Target } from './sessions.js';
import type { Outgoing, Settled } from './store.js';

/** Options of `send()`. */
export interface SecureSendOptions extends RequestOptions {
  /**
   * What the returned promise waits for: `'accepted'`, the relay accepted the message;
   * `'delivered'`, every recipient's session confirmed it with a receipt (needs
   * `delivery: 'reliable'` and recipients that run it). `signal` stops the waiting,
   * not the delivery; `timeoutMs` applies to messages sent at most once.
   * Default: 'accepted'.
   */
  await?: 'accepted' | 'delivered';
}

/** What a broadcast sent with `{ await: 'delivered' }` resolves with. */
export interface DeliveredBroadcast extends BroadcastResult {
  /** Recipients whose session confirmed it. */
  confirmed: string[];
  /** Recipients that did not within `deliveryTimeout`, or that do not confirm delivery (at-most-once peers). */
  unconfirmed: string[];
}

/** What the dispatch needs of its session. */
export interface DispatchHost {
  readonly table: PeerTable;
  readonly outbox: Outbox;
  readonly delivery: Delivery | undefined;
  readonly requests: Requests;
  readonly emit: Emit;
  readonly logger: Logger;
  readonly encryption: boolean;
}

/** Where one send goes: reliable targets (and their private IDs), peers reached at most once, peers skipped. */
interface Plan {
  targets: Target[];
  names: string[];
  atMostOnce: string[];
  skipped: string[];
}

const UNDELIVERED_TYPE: Record<ItemKind, UndeliveredEvent['type']> = {
  b: 'broadcast',
  d: 'direct',
  q: 'request',
  r: 'answer',
  e: 'answer',
};

/** The `await` option, checked. */
function awaitOf(options: SecureSendOptions): 'accepted' | 'delivered' {
  const { await: waitFor = 'accepted' } = options;
  if (waitFor !== 'accepted' && waitFor !== 'delivered')
    throw new InvalidArgumentError("option 'await' must be 'accepted' or 'delivered'");
  return waitFor;
}

/** Routes one session's sends, requests and extended envelopes. */
export class Dispatch {
  readonly #host: DispatchHost;

  constructor(host: DispatchHost) {
    this.#host = host;
  }

  /**
   * A send (`'d'` to `ids`) or broadcast (`'b'` to every peer but `ids`).
   * `connected`: else the session is reconnecting.
   */
  async submit(
    kind: 'b' | 'd',
    ids: string[],
    data: unknown,
    options: SecureSendOptions,
    connected: boolean,
  ): Promise<BroadcastResult | DeliveredBroadcast> {
    const waitFor = awaitOf(options);
    const { delivery, outbox, encryption } = this.#host;
    if (!delivery) {
      if (waitFor === 'delivered')
        throw new InvalidArgumentError("option await: 'delivered' needs delivery: 'reliable'");
      return outbox.submit(kind, ids, data, options, encryption, !connected);
    }
    const json = toJson(data);
    const { signal } = options;
    // Errors name the call the caller made.
    const operation = kind === 'd' ? 'send' : 'broadcast';
    throwIfAborted(signal, operation);
    const plan = kind === 'd' ? this.#direct(ids, connected) : this.#broadcast(ids, connected);
    if (waitFor === 'delivered' && kind === 'd' && plan.atMostOnce[0] !== undefined)
      throw new InvalidArgumentError(
        `peer ${plan.atMostOnce[0]} does not confirm delivery (it does not run delivery 'reliable'): send to it without await: 'delivered'`,
      );
    const msg = plan.targets.length ? delivery.submit(kind, 0, data, json, plan.targets) : undefined;
    // A broadcast's at-most-once part goes to whoever is listed when it is written, but the reliable recipients.
    const rest = !plan.atMostOnce.length
      ? undefined
      : kind === 'd'
        ? outbox.submit('d', plan.atMostOnce, data, options, true, !connected)
        : outbox.submit('b', [...ids, ...plan.names], data, options, true, !connected);
    if (waitFor === 'accepted' && !rest && !signal) {
      // The usual case, kept lean: one part to wait for, nothing to merge.
      if (msg) await accepted(msg, operation);
      return { recipients: plan.names, skipped: plan.skipped };
    }
    const reliable = msg && (waitFor === 'delivered' ? settled(msg) : accepted(msg, operation).then(() => undefined));
    const [done, other] = await abortable(Promise.all([reliable, rest]), signal, operation);
    const result = {
      recipients: [...new Set([...plan.names, ...(other?.recipients ?? [])])],
      skipped: [...new Set([...plan.skipped, ...(other?.skipped ?? [])])],
    };
    if (waitFor === 'accepted') return result;
    const { confirmed, unconfirmed } = done ?? { confirmed: [], unconfirmed: [] };
    if (kind === 'd' && unconfirmed.length) throw (msg as Outgoing<Target>).failure;
    return { ...result, confirmed, unconfirmed: [...unconfirmed, ...(other?.recipients ?? [])] };
  }

  /** A request to `to`; resolves with its answer. */
  async request(to: string, data: unknown, options: PeerRequestOptions, connected: boolean): Promise<unknown> {
    const { table, delivery, requests, outbox, encryption } = this.#host;
    if (typeof to !== 'string' || !to) throw new InvalidArgumentError("request() needs a peer's private ID");
    if (!encryption) throw new InvalidStateError('request() needs encryption: true (requests travel encrypted)');
    const json = toJson(data);
    const peer = table.sendable(to);
    const target = delivery?.route(to, peer);
    if (!target) {
      if (!peer && connected) throw noPeer(to);
      if (peer && !advertises(peer.options, 'a') && !advertises(peer.options, 'r'))
        throw new InvalidArgumentError(`peer ${to} does not answer requests (it runs an older version)`);
    }
    const { id, answer } = requests.open(to, options);
    try {
      if (target) delivery?.submit('q', id, data, json, [target]);
      else
        outbox
          .submitItem(to, itemJson('q', id, json), !connected, ([sent]) => requests.expect(id, sent?.keys.pk as string))
          .catch((error: Error) => requests.fail(id, error));
    } catch (error) {
      requests.fail(id, error as Error);
    }
    return answer;
  }

  /**
   * The messages of one plain envelope, in order: authenticated (or, on a plaintext
   * session, plain). Extended envelopes' messages come through {@link item}.
   */
  deliver(from: string, type: 'broadcast' | 'direct', items: unknown[], raw: PushMessage, encrypted: boolean): void {
    for (const data of items) this.#host.emit('message', { type, from, data, encrypted, raw });
  }

  /**
   * An extended envelope from `peer`, authenticated: a session that runs reliable
   * delivery hands it to delivery; one that does not reads unsequenced items only.
   * @returns why it is dropped after all, or nothing.
   */
  extended(peer: PeerEntry, frame: Extended, raw: PushMessage): Refusal | undefined {
    const { delivery } = this.#host;
    if (delivery) return delivery.receive(peer, frame, raw);
    const { payload, entry } = frame;
    if (payload.s !== undefined || Object.keys(entry).length)
      return [
        'malformed',
        new ProtocolError(`message from ${peer.id}: reliable delivery, but this session's delivery is at-most-once`),
      ];
    for (const item of payload.i) this.item(peer, undefined, item, raw);
    return undefined;
  }

  /** One item, delivered in order: a message, a request to answer, or an answer. `session`: it came sequenced from it. */
  item(peer: PeerEntry, session: PeerSession | undefined, item: Item, raw: PushMessage): void {
    if (item[0] === 'b' || item[0] === 'd') {
      const type = item[0] === 'b' ? 'broadcast' : 'direct';
      return void this.#host.emit('message', { type, from: peer.id, data: item[1], encrypted: true, raw });
    }
    const [kind, id, value] = item as ['q' | 'r' | 'e', number, unknown];
    if (kind === 'q') void this.#answer(peer, session, id, value);
    else this.#host.requests.answered(id, peer.keys.pk, session?.s, kind, value);
  }

  /** A reliable message was given up for `to`. */
  lost(msg: Outgoing<Target>, to: string, error: WssError): void {
    this.#host.emit('undelivered', { to, type: UNDELIVERED_TYPE[msg.kind], data: msg.data, error });
    if (msg.kind === 'q') this.#host.requests.fail(msg.id, error);
  }

  /** A request went on a session's stream: only that session may answer it. */
  assigned(msg: Outgoing<Target>, session: PeerSession): void {
    if (msg.kind === 'q') this.#host.requests.expect(msg.id, session.s);
  }

  /** A peer entry joined the table: a usable one that runs reliable delivery is greeted. */
  keyed(peer: PeerEntry): void {
    if (usable(peer) && advertises(peer.options, 'r')) this.#host.delivery?.keyed(peer);
  }

  /** The session ended: every request and reliable message fails with `error`. */
  stop(error: Error): void {
    this.#host.delivery?.stop(error);
    this.#host.requests.stop(error);
  }

  /** Runs the handler for a request and sends its answer back the way the request came. */
  async #answer(peer: PeerEntry, session: PeerSession | undefined, id: number, data: unknown): Promise<void> {
    const { requests, delivery, outbox, logger } = this.#host;
    const { kind, data: value, json } = await requests.serve(data, { from: peer.id });
    try {
      if (session && delivery) delivery.submit(kind, id, value, json, [session]);
      else await outbox.submitItem(peer.id, itemJson(kind, id, json), false);
    } catch (error) {
      logger.warn(`wss-sessions: the answer to request ${id} from ${peer.id} could not be sent`, error);
    }
  }

  /** Sends to `ids`: reliable peers (listed, or known sessions) by delivery, the others at most once. */
  #direct(ids: string[], connected: boolean): Plan {
    const { table, delivery } = this.#host;
    const plan: Plan = { targets: [], names: [], atMostOnce: [], skipped: [] };
    for (const id of ids) {
      const peer = table.sendable(id);
      const target = delivery?.route(id, peer);
      if (target) {
        plan.targets.push(target);
        plan.names.push(id);
      } else if (!peer && connected) throw noPeer(id);
      else plan.atMostOnce.push(id);
    }
    return plan;
  }

  /**
   * A broadcast's recipients: the usable listed peers (none while reconnecting), and
   * the reliable sessions expected back (connected when this session's connection dropped).
   * While reconnecting, peers that do not run reliable delivery get none.
   */
  #broadcast(exclude: string[], connected: boolean): Plan {
    const { table, delivery } = this.#host;
    const plan: Plan = { targets: [], names: [], atMostOnce: [], skipped: [] };
    const left = new Set(exclude);
    for (const peer of connected ? table.values() : []) {
      if (left.has(peer.id)) continue;
      const target = usable(peer) ? delivery?.route(peer.id, peer) : undefined;
      if (target) {
        plan.targets.push(target);
        plan.names.push(peer.id);
      } else (usable(peer) ? plan.atMostOnce : plan.skipped).push(peer.id);
    }
    for (const session of delivery?.roster(left) ?? []) {
      if (plan.targets.includes(session)) continue;
      plan.targets.push(session);
      plan.names.push(session.name);
    }
    return plan;
  }
}

/**
 * Resolves once the relay accepted a transmission of `msg` (or every recipient confirmed it);
 * rejects when it was given up first (`operation` names the call in the error).
 */
function accepted(msg: Outgoing<Target>, operation: 'send' | 'broadcast'): Promise<void> {
  return new Promise((resolve, reject) => {
    if (msg.accepted) return resolve();
    msg.onAccepted = resolve;
    msg.onSettled = ({ unconfirmed }) => {
      if (!unconfirmed.length) resolve();
      else reject(msg.failure ?? new ConnectionClosedError(operation));
    };
  });
}

/** Resolves once every recipient of `msg` is settled: confirmed, or given up. */
function settled(msg: Outgoing<Target>): Promise<Settled> {
  return new Promise((resolve) => {
    msg.onSettled = resolve;
  });
}
