import { afterEach, describe, expect, it, vi } from 'vitest';
import { derivePrivateId, ipKeyOf, SessionRegistry } from '../../src/server/wss/registry.js';
import { privateIdOf } from './helpers.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('SessionRegistry', () => {
  it('keys clients by family and IP, folding IPv4-mapped IPv6 addresses', () => {
    expect(ipKeyOf({ family: 'IPv6', address: '::ffff:127.0.0.1' })).toBe('IPv4:127.0.0.1');
    expect(ipKeyOf({ family: 'IPv4', address: '127.0.0.1' })).toBe('IPv4:127.0.0.1');
    expect(ipKeyOf({ family: 'IPv6', address: '::1' })).toBe('IPv6:::1');
  });

  it('derives the private ID as hex SHA-256 of server_token:user_token', () => {
    expect(derivePrivateId('9789091435706088', '7060939278321507')).toBe(
      privateIdOf('9789091435706088', '7060939278321507'),
    );
    expect(derivePrivateId('a', 'b')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('expires a pending handshake after its timeout, but not a connected one', () => {
    vi.useFakeTimers();
    const registry = new SessionRegistry<string>();
    const expired: string[] = [];
    const pending = registry.addHandshake('IPv4:1.2.3.4', 'p', null);
    const bound = registry.addHandshake('IPv4:1.2.3.4', 'b', null);
    registry.expireLater(pending, 1000, (r) => expired.push(r.userToken));
    registry.expireLater(bound, 1000, (r) => expired.push(r.userToken));
    registry.bind(bound, 'pid-b', 'conn', {});
    expect(registry.countForIp('IPv4:1.2.3.4')).toBe(2);
    vi.advanceTimersByTime(999);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(expired).toEqual(['p']);
    expect(registry.findHandshake('IPv4:1.2.3.4', 'p')).toBeUndefined();
    expect(registry.findHandshake('IPv4:1.2.3.4', 'b')?.session?.privateId).toBe('pid-b');
    expect(registry.countForIp('IPv4:1.2.3.4')).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('clear() stops every expiry timer', () => {
    vi.useFakeTimers();
    const registry = new SessionRegistry<string>();
    for (const token of ['a', 'b', 'c']) registry.expireLater(registry.addHandshake('k', token, null), 5000, () => {});
    expect(vi.getTimerCount()).toBe(3);
    registry.clear();
    expect(vi.getTimerCount()).toBe(0);
    expect(registry.countForIp('k')).toBe(0);
  });

  it('renames a session so lookups follow the new private ID', () => {
    const registry = new SessionRegistry<string>();
    const session = registry.bind(registry.addHandshake('k', 't', 'c'), 'old', 'c', { x: 1 });
    registry.rename(session, 'new');
    expect(registry.findSession('old')).toBeUndefined();
    expect(registry.findSession('new')).toBe(session);
    expect(registry.removeHandshake(session.handshake)).toBe(session);
    expect(registry.sessionCount).toBe(0);
  });
});
