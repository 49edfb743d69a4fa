import { afterEach, describe, expect, it, vi } from 'vitest';
import { ipKeyOf } from '../../src/server/transport/client.js';
import { Frame } from '../../src/server/transport/frame.js';
import type { HandshakeClaim, Mailbox } from '../../src/server/wss/broker.js';
import { LocalBroker } from '../../src/server/wss/local-broker.js';
import { derivePrivateId } from '../../src/server/wss/private-id.js';
import { privateIdOf } from './helpers.js';

afterEach(() => {
  vi.useRealTimers();
});

/** A mailbox that keeps the payloads it is handed, in order. */
function inbox(): Mailbox & { texts: string[] } {
  const texts: string[] = [];
  return { texts, deliver: (frame) => void texts.push(frame.text()) };
}

const claim = (userToken: string, extra: Partial<HandshakeClaim> = {}): HandshakeClaim => ({
  ipKey: 'IPv4:1.2.3.4',
  userToken,
  serverToken: `s-${userToken}`,
  maxPerIp: 10,
  ttlMs: 0,
  ...extra,
});

async function joined(broker: LocalBroker, name: string, optionsJson = `{"n":"${name}"}`) {
  await broker.openHandshake(claim(name));
  const mailbox = inbox();
  const outcome = await broker.join({
    ipKey: 'IPv4:1.2.3.4',
    userToken: name,
    serverToken: `s-${name}`,
    privateId: name,
    optionsJson,
    mailbox,
    announce: Frame.text(`connect ${name}`),
  });
  return { outcome, mailbox };
}

describe('helpers', () => {
  it('keys clients by family and IP, folding IPv4-mapped IPv6 addresses', () => {
    expect(ipKeyOf({ family: 'IPv6', address: '::ffff:127.0.0.1' })).toBe('IPv4:127.0.0.1');
    expect(ipKeyOf({ family: 'IPv4', address: '127.0.0.1' })).toBe('IPv4:127.0.0.1');
    expect(ipKeyOf({ family: 'IPv6', address: '::1' })).toBe('IPv6:::1');
  });

  it('derives the private ID as hex SHA-256 of server_token:user_token', () => {
    expect(derivePrivateId('9789091435706088', '7060939278321507')).toBe(
      privateIdOf('9789091435706088', '7060939278321507'),
    );
  });

  it('frames text once: one RFC 6455 header for every payload size', () => {
    for (const size of [0, 125, 126, 65535, 65536]) {
      const frame = Frame.text('x'.repeat(size));
      const head = frame.chunks[0]!;
      expect(head[0]).toBe(0x81);
      const declared = head[1] === 126 ? head.readUInt16BE(2) : head[1] === 127 ? head.readUInt32BE(6) : head[1];
      expect(declared).toBe(size);
      expect(frame.size).toBe(size + (size < 126 ? 2 : size < 65536 ? 4 : 10));
      expect(frame.text()).toBe('x'.repeat(size));
    }
    const parts = Frame.parts(['{"a":[', Buffer.from('1,2'), ']}']);
    expect(parts.text()).toBe('{"a":[1,2]}');
    expect(parts.payloadSize).toBe(11);
  });

  it('frames a body between a head and a tail: a large body from its own buffer, anything else copied', () => {
    const wire = (frame: Frame) => Buffer.concat([...frame.chunks]);
    const small = Frame.around('{"d":', Buffer.from('"é"'), '}');
    expect(small.chunks).toHaveLength(1);
    expect(small.text()).toBe('{"d":"é"}');
    expect(wire(small)).toEqual(wire(Frame.text('{"d":"é"}')));

    const message = Buffer.alloc(200_000, 0x78);
    const body = message.subarray(10, 150_010);
    body[0] = 0x22;
    body[body.length - 1] = 0x22;
    const shared = Frame.around('{"d":', body, '}');
    expect(shared.chunks[1]).toBe(body);
    expect(shared.text()).toBe(`{"d":${body.toString()}}`);
    expect(wire(shared)).toEqual(wire(Frame.text(`{"d":${body.toString()}}`)));

    // A body holding on to a buffer more than twice its size is copied, so a queued frame never pins more than it carries.
    const sliver = message.subarray(0, 70_000);
    const copied = Frame.around('[', sliver, ']');
    expect(copied.chunks).toHaveLength(1);
    expect(copied.chunks[0]!.buffer).not.toBe(message.buffer);
    expect(copied.text()).toBe(`[${sliver.toString()}]`);
  });
});

describe('LocalBroker', () => {
  it('counts handshakes per IP and in total, and refuses a repeated token or one over the cap', async () => {
    const broker = new LocalBroker();
    expect(await broker.openHandshake(claim('a', { maxPerIp: 2 }))).toEqual({ ok: true, perIp: 1, total: 1 });
    expect(await broker.openHandshake(claim('x', { ipKey: 'IPv4:9.9.9.9' }))).toEqual({ ok: true, perIp: 1, total: 2 });
    expect(await broker.openHandshake(claim('a', { maxPerIp: 2 }))).toEqual({ ok: false, reason: 'exists' });
    expect(await broker.openHandshake(claim('b', { maxPerIp: 2 }))).toEqual({ ok: true, perIp: 2, total: 3 });
    expect(await broker.openHandshake(claim('c', { maxPerIp: 2 }))).toEqual({ ok: false, reason: 'limit', perIp: 2 });
    await broker.dropHandshake('IPv4:1.2.3.4', 'a');
    expect(await broker.openHandshake(claim('c', { maxPerIp: 2 }))).toMatchObject({ ok: true, perIp: 2 });
  });

  it('expires pending handshakes on one timer, but not bound ones', async () => {
    vi.useFakeTimers();
    const expired: string[] = [];
    const broker = new LocalBroker((ipKey) => expired.push(ipKey));
    await broker.openHandshake(claim('p', { ttlMs: 1000 }));
    vi.advanceTimersByTime(500);
    await broker.openHandshake(claim('q', { ttlMs: 1000 }));
    await broker.openHandshake(claim('b', { ttlMs: 1000 }));
    await broker.join({
      ipKey: 'IPv4:1.2.3.4',
      userToken: 'b',
      serverToken: 's-b',
      privateId: 'pid-b',
      optionsJson: '{}',
      mailbox: inbox(),
      announce: Frame.text('c'),
    });
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(500);
    expect(expired).toEqual(['IPv4:1.2.3.4']);
    expect(await broker.findHandshake('IPv4:1.2.3.4', 'p')).toBeNull();
    expect(await broker.findHandshake('IPv4:1.2.3.4', 'q')).not.toBeNull();
    vi.advanceTimersByTime(500);
    expect(expired).toHaveLength(2);
    expect(await broker.findHandshake('IPv4:1.2.3.4', 'b')).toEqual({ serverToken: 's-b', privateId: 'pid-b' });
    expect(vi.getTimerCount()).toBe(0);
    await broker.close();
  });

  it('joins in one step: refusals by reason, the peer list as cached JSON, the announcement to the others', async () => {
    const broker = new LocalBroker();
    const a = await joined(broker, 'a');
    const b = await joined(broker, 'b', '{"key":"B"}');
    expect(a.outcome).toMatchObject({ ok: true, peers: { count: 0 } });
    expect(a.mailbox.texts).toEqual(['connect b']);
    if (!b.outcome.ok) throw new Error('b did not join');
    expect(b.outcome.peers.ids.toString()).toBe('"a"');
    const c = await joined(broker, 'c');
    if (!c.outcome.ok) throw new Error('c did not join');
    expect(c.outcome.peers.ids.toString()).toBe('"a","b"');
    expect(c.outcome.peers.options.toString()).toBe('{"n":"a"},{"key":"B"}');
    // The slice handed to b is unchanged by later joins.
    expect(b.outcome.peers.ids.toString()).toBe('"a"');

    const base = { ipKey: 'IPv4:1.2.3.4', optionsJson: '{}', mailbox: inbox(), announce: Frame.text('x') };
    await broker.openHandshake(claim('d'));
    expect(await broker.join({ ...base, userToken: 'none', serverToken: 's', privateId: 'n' })).toEqual({
      ok: false,
      reason: 'no-handshake',
    });
    expect(await broker.join({ ...base, userToken: 'd', serverToken: 'wrong', privateId: 'd' })).toMatchObject({
      reason: 'token-mismatch',
    });
    expect(await broker.join({ ...base, userToken: 'd', serverToken: 's-d', privateId: 'a' })).toMatchObject({
      reason: 'taken',
    });
    expect(await broker.join({ ...base, userToken: 'a', serverToken: 's-a', privateId: 'z' })).toMatchObject({
      reason: 'bound',
    });
  });

  it('renames, leaves and delivers in call order, rebuilding the peer list after a change', async () => {
    const broker = new LocalBroker();
    const a = await joined(broker, 'a');
    const b = await joined(broker, 'b');
    const c = await joined(broker, 'c');
    expect(await broker.rename('a', 'b', Frame.text('change'))).toBe('taken');
    expect(await broker.rename('nobody', 'q', Frame.text('change'))).toBe('gone');
    expect(await broker.rename('a', 'a2', Frame.text('a->a2'))).toBe('renamed');
    await broker.broadcast('b', Frame.text('from b'), new Set(['c']));
    expect(await broker.direct(new Set(['c', 'ghost']), Frame.text('to c'))).toEqual(['ghost']);
    await broker.leave('b', Frame.text('b left'));
    await broker.leave('b', Frame.text('twice'));
    expect(a.mailbox.texts).toEqual(['connect b', 'connect c', 'from b', 'b left']);
    expect(b.mailbox.texts).toEqual(['connect c', 'a->a2']);
    expect(c.mailbox.texts).toEqual(['a->a2', 'to c', 'b left']);
    expect(await broker.sessionCount()).toBe(2);
    expect(await broker.findHandshake('IPv4:1.2.3.4', 'b')).toBeNull();
    const d = await joined(broker, 'd');
    if (!d.outcome.ok) throw new Error('d did not join');
    expect(d.outcome.peers.ids.toString()).toBe('"c","a2"');
  });
});
