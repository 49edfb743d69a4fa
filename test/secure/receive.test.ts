/**
 * One pushed message as an inbox task, with real keys and a real peer table:
 * on Node, a message whose sender's keys are checked is opened and delivered
 * in the turn its frame arrives; behind other work it still waits its turn.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket as WsWebSocket } from 'ws';
import type { MessageEvent } from '../../src/client/events.js';
import { utf8Encode } from '../../src/crypto/bytes.js';
import type { PushMessage } from '../../src/protocol/wss.js';
import type { DecryptErrorEvent } from '../../src/secure/events.js';
import { Inbox } from '../../src/secure/inbox.js';
import { PeerTable } from '../../src/secure/peers.js';
import { messageTask, type Receiver } from '../../src/secure/receive.js';
import { checkPeer, createLocalKeys, type Envelope, keyId, seal } from '../../src/secure/scheme.js';
import { Harness, next } from './helpers.js';

const policy = { info: 'app', requirePeerIdentity: false };

/** Alice's session sealing to us, and our receiving side with Alice listed; `keys` says how `keysOf` answers. */
async function setup(keys: 'checked' | 'checking') {
  const [own, alice] = await Promise.all([createLocalKeys('app'), createLocalKeys('app')]);
  const [toUs, fromAlice] = await Promise.all([
    checkPeer('us', own.advert, alice, policy),
    checkPeer('alice', alice.advert, own, policy),
  ]);
  const table = new PeerTable(true, 10);
  table.announce(own, 'alice', { e2e: alice.advert }, fromAlice);
  const delivered: unknown[] = [];
  const dropped: DecryptErrorEvent[] = [];
  const receiver: Receiver = {
    encrypted: true,
    kid: keyId(own.pk),
    table,
    keysOf: (id) => (id !== 'alice' ? undefined : keys === 'checked' ? fromAlice : Promise.resolve(fromAlice)),
    deliver: (_from, _type, items) => void delivered.push(...items),
    reject: (event) => void dropped.push(event),
    info: 'app',
    reliable: false,
    extended: () => undefined,
  };
  const recipient = { pk: toUs.pk as string, kid: keyId(toUs.pk as string), send: toUs.send as CryptoKey };
  const envelope = async (text: string): Promise<Envelope> => seal(alice, [recipient], 'd', utf8Encode(text));
  const frame = (data: Envelope): MessageEvent => ({
    type: 'direct',
    from: 'alice',
    data,
    raw: { jsonrpc: '2.0', result: { type: 'direct', from: 'alice', data } } as unknown as PushMessage,
  });
  const inbox = new Inbox({ frames: 10, bytes: 1 << 20 }, (error) => {
    throw error;
  });
  const owner = {};
  const push = (data: Envelope) => inbox.push(messageTask(receiver, owner, frame(data)));
  return { inbox, push, envelope, delivered, dropped, owner };
}

describe('messageTask', () => {
  it('delivers at once when the sender is checked and nothing waits before it; a replay is dropped at once too', async () => {
    const { push, envelope, delivered, dropped } = await setup('checked');
    const first = await envelope('["one"]');
    push(first);
    expect(delivered).toEqual(['one']);
    push(await envelope('["two", 2]'));
    expect(delivered).toEqual(['one', 'two', 2]);
    push(first);
    expect(dropped.map((e) => e.reason)).toEqual(['replay']);
  });

  it('waits for a key check still running, and keeps arrival order behind earlier work', async () => {
    const checking = await setup('checking');
    checking.push(await checking.envelope('["later"]'));
    expect(checking.delivered).toEqual([]);
    await checking.inbox.idle();
    expect(checking.delivered).toEqual(['later']);

    const { inbox, push, envelope, delivered, owner } = await setup('checked');
    let release!: () => void;
    inbox.push({
      owner,
      size: 1,
      ready: new Promise<void>((r) => (release = r)),
      commit: () => void delivered.push('first'),
    });
    push(await envelope('["second"]'));
    expect(delivered).toEqual([]);
    release();
    await inbox.idle();
    expect(delivered).toEqual(['first', 'second']);
  });
});

describe('through the reference server', () => {
  const h = new Harness();
  afterEach(() => h.stop());

  it("delivers a message from a checked peer while its frame's event is being dispatched, in order", async () => {
    await h.start();
    let dispatching = false;
    /** A socket that says when it is handing a received frame to its listeners. */
    class Watched extends WsWebSocket {
      override emit(event: string | symbol, ...args: unknown[]): boolean {
        if (event !== 'message') return super.emit(event, ...args);
        dispatching = true;
        try {
          return super.emit(event, ...args);
        } finally {
          dispatching = false;
        }
      }
    }
    const receiver = h.session({ WebSocket: Watched as never });
    await receiver.connect();
    const sender = h.session();
    const keyed = next(receiver, 'peerkey');
    await sender.connect();
    await keyed;
    const seen: Array<[unknown, boolean]> = [];
    receiver.on('message', ({ data }) => void seen.push([data, dispatching]));
    const last = next(receiver, 'message', (e) => e.data === 9);
    for (let i = 0; i < 10; i++) await sender.send(receiver.privateId as string, i);
    await last;
    expect(seen).toEqual(Array.from({ length: 10 }, (_, i) => [i, true]));
  });

  it('a listener may answer or disconnect while the frame is being received', async () => {
    await h.start();
    const [a, b] = await h.group(2);
    const [pa, pb] = [a.privateId as string, b.privateId as string];
    // Answered from inside the delivery: the answer goes out, in order.
    b.on('message', ({ data }) => {
      if (typeof data === 'number' && data < 3) void b.send(pa, `re ${data}`);
    });
    const answers = next(a, 'message', (m) => m.data === 're 2');
    for (const i of [0, 1, 2]) await a.send(pb, i);
    await answers;
    // Disconnected from inside the delivery: what follows is not delivered, nothing throws, and connect() works again.
    const seen: unknown[] = [];
    const errors: unknown[] = [];
    b.on('error', (e) => errors.push(e));
    b.on('message', ({ data }) => {
      seen.push(data);
      if (data === 'stop') void b.disconnect();
    });
    const closed = next(b, 'state', (e) => e.state === 'disconnected');
    // 'after' may reach the relay once b has left, which refuses it: only its delivery matters here.
    await Promise.allSettled([a.send(pb, 'stop'), a.send(pb, 'after')]);
    await closed;
    expect(seen).toEqual(['stop']);
    expect(errors).toEqual([]);
    const back = next(a, 'peerconnect');
    await b.connect();
    await back;
    const again = next(b, 'message', (m) => m.data === 'again');
    await a.send(b.privateId as string, 'again');
    expect(await again).toMatchObject({ from: pa, encrypted: true });
  });
});
