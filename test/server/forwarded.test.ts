import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.js';
import { clientAddress, MAX_FORWARDED_HOPS, trustedProxies } from '../../src/server/forwarded.js';

const proxy = { family: 'IPv4', address: '127.0.0.1' };
const trusted = trustedProxies(['127.0.0.1', '::1']);

describe('trustedProxies', () => {
  it('accepts IPv4 and IPv6 addresses and folds IPv4-mapped IPv6', () => {
    expect([...trustedProxies(['10.0.0.1', '::FFFF:10.0.0.2', '::1'])]).toEqual(['10.0.0.1', '10.0.0.2', '::1']);
  });

  it('makes the set once per list: every later call with that list returns it', () => {
    const list = ['10.0.0.1'];
    expect(trustedProxies(list)).toBe(trustedProxies(list));
  });

  it('refuses anything that is not an IP address, naming the option', () => {
    expect(() => trustedProxies(['localhost'])).toThrow(InvalidArgumentError);
    expect(() => trustedProxies(['10.0.0.0/8'])).toThrow(/trustProxy.*IP addresses/);
    expect(() => trustedProxies([42 as unknown as string])).toThrow(/trustProxy/);
    expect(() => trustedProxies('127.0.0.1' as unknown as string[])).toThrow(/array/);
  });
});

describe('clientAddress', () => {
  it('is the TCP peer when no proxy is trusted, whatever the header says', () => {
    expect(clientAddress(proxy, '203.0.113.9', new Set())).toEqual(proxy);
  });

  it('is the TCP peer when the peer is not a trusted proxy (a client cannot pick its address)', () => {
    const client = { family: 'IPv4', address: '198.51.100.7' };
    expect(clientAddress(client, '203.0.113.9', trusted)).toEqual(client);
  });

  it('takes the address the trusted proxy appended', () => {
    expect(clientAddress(proxy, '203.0.113.9', trusted)).toEqual({ family: 'IPv4', address: '203.0.113.9' });
    expect(clientAddress(proxy, '2001:db8::7', trusted)).toEqual({ family: 'IPv6', address: '2001:db8::7' });
  });

  it('reads from the right and skips trusted hops, so a forged left part is ignored', () => {
    expect(clientAddress(proxy, '6.6.6.6, 203.0.113.9, 127.0.0.1', trusted)).toEqual({
      family: 'IPv4',
      address: '203.0.113.9',
    });
    expect(clientAddress(proxy, ['6.6.6.6', '203.0.113.9'], trusted).address).toBe('203.0.113.9');
  });

  it('folds an IPv4-mapped client address to IPv4 and the peer the same way', () => {
    const mappedProxy = { family: 'IPv6', address: '::ffff:127.0.0.1' };
    expect(clientAddress(mappedProxy, '::ffff:203.0.113.9', trusted)).toEqual({
      family: 'IPv4',
      address: '203.0.113.9',
    });
  });

  it('does not believe a header with an entry that is not an IP address', () => {
    expect(clientAddress(proxy, '203.0.113.9, unknown', trusted)).toEqual(proxy);
    expect(clientAddress(proxy, '', trusted)).toEqual(proxy);
  });

  it('is the peer when every hop is a trusted proxy, and reads at most MAX_FORWARDED_HOPS entries', () => {
    expect(clientAddress(proxy, '127.0.0.1, ::1', trusted)).toEqual(proxy);
    const long = ['203.0.113.9', ...Array<string>(MAX_FORWARDED_HOPS).fill('127.0.0.1')].join(',');
    expect(clientAddress(proxy, long, trusted)).toEqual(proxy);
  });

  it('is the peer when there is no header', () => {
    expect(clientAddress(proxy, undefined, trusted)).toEqual(proxy);
  });
});
