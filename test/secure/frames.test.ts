/** The extended envelope's payload and per-recipient entry: what is accepted and what is refused. */
import { describe, expect, it } from 'vitest';
import { encodeEntry, encodePayload, itemJson, parseEntry, parsePayload } from '../../src/secure/frames.js';

describe('payload', () => {
  it('round-trips items and the session proof', () => {
    const items = [
      itemJson('d', 0, '{"a":1}'),
      itemJson('b', 0, 'null'),
      itemJson('q', 3, '[1]'),
      itemJson('e', 4, '"no"'),
    ];
    expect(parsePayload(encodePayload(items))).toEqual({
      i: [
        ['d', { a: 1 }],
        ['b', null],
        ['q', 3, [1]],
        ['e', 4, 'no'],
      ],
    });
    expect(parsePayload(encodePayload([], { s: 'S', g: 'G' }))).toEqual({ i: [], s: 'S', g: 'G' });
  });

  it.each([
    ['not JSON', '{'],
    ['not an object', '[]'],
    ['no item list', '{"x":1}'],
    ['an unknown kind', '{"i":[["z",1]]}'],
    ['a message with an id', '{"i":[["d",1,2]]}'],
    ['a request without an id', '{"i":[["q",{}]]}'],
    ['a request id of 0', '{"i":[["q",0,1]]}'],
    ['an answer id that is not an integer', '{"i":[["r",1.5,1]]}'],
    ['an error that is not text', '{"i":[["e",1,{}]]}'],
    ['an error text too long', `{"i":[["e",1,"${'x'.repeat(1025)}"]]}`],
    ['half a proof', '{"i":[],"s":"S"}'],
    ['a proof that is not text', '{"i":[],"s":1,"g":2}'],
  ])('refuses %s', (_, text) => {
    expect(parsePayload(text)).toBeNull();
  });
});

describe('entry', () => {
  it('round-trips, and says nothing when empty', () => {
    const entry = { e: 7, q: 3, f: 2, a: [9, 0] as [number, number], n: 1 as const, h: 1 as const };
    expect(parseEntry(encodeEntry(entry))).toEqual(entry);
    expect(encodeEntry({})).toBe('');
    expect(encodeEntry({ q: undefined })).toBe('');
    expect(parseEntry('')).toEqual({});
  });

  it.each([
    ['not JSON', '{'],
    ['not an object', '1'],
    ['q without f', '{"e":1,"q":1}'],
    ['f without e', '{"f":1}'],
    ['f above q', '{"e":1,"q":1,"f":2}'],
    ['a sequence number of 0', '{"e":1,"q":0,"f":0}'],
    ['an epoch past 32 bits', `{"e":${2 ** 32},"f":1}`],
    ['a receipt that is not a pair', '{"a":[1]}'],
    ['a negative receipt count', '{"a":[1,-1]}'],
    ['n other than 1', '{"n":true}'],
    ['h other than 1', '{"h":2}'],
  ])('refuses %s', (_, text) => {
    expect(parseEntry(text)).toBeNull();
  });
});
