import { describe, expect, it } from 'vitest';
import { nestsDeeperThan } from '../../src/server/transport/depth.js';
import { RawJson } from '../../src/server/transport/raw-json.js';
import { parseFrame } from '../../src/server/wss/request-parse.js';
import { scanRequests } from '../../src/server/wss/request-scan.js';

/** Whether JSON.parse takes the text: what the scanner must decide alike, byte for byte. */
function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

const scans = (text: string): boolean => scanRequests(Buffer.from(text, 'utf8')) !== null;

/** A small deterministic generator (mulberry32), so a failing case can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SPACE = [' ', '\n', '\r', '\t', ''];
const STRINGS = ['', 'data', 'params', 'd\\u0061ta', 'é€😀', 'a\\"b', '\\\\', '\\/\\b\\f\\n\\r\\t', '\\ud800'];
const NUMBERS = ['0', '-0', '1', '-12', '3.25', '1e9', '1E+2', '2e-3', '0.5e10', '123456789012345678901234567890'];

/**
 * A random JSON text with random white space, keys drawn so that `params` and `data` turn up often
 * (or, with `uniqueKeys`, never twice in one object).
 */
function jsonText(next: () => number, depth = 0, uniqueKeys = false): string {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)] as T;
  const ws = () => pick(SPACE);
  const kind = depth > 4 ? Math.floor(next() * 4) : Math.floor(next() * 6);
  if (kind === 0) return `"${pick(STRINGS)}"`;
  if (kind === 1) return pick(NUMBERS);
  if (kind === 2) return pick(['true', 'false', 'null']);
  if (kind === 3) return `"${pick(STRINGS)}${pick(STRINGS)}"`;
  const count = Math.floor(next() * 4);
  const items = Array.from({ length: count }, (_, i) => {
    const value = `${ws()}${jsonText(next, depth + 1, uniqueKeys)}${ws()}`;
    return kind === 4 ? value : `${ws()}"${uniqueKeys ? `k${i}` : pick(STRINGS)}"${ws()}:${value}`;
  });
  return kind === 4 ? `[${items.join(',')}${ws()}]` : `{${items.join(',')}${ws()}}`;
}

/** The text with one byte replaced, removed or doubled: mostly invalid, sometimes still valid. */
function mutate(text: string, next: () => number): string {
  const at = Math.floor(next() * (text.length + 1));
  const junk = '{}[]",:\\ 01-+.eEtfnu\u0000\u001fx';
  const op = Math.floor(next() * 3);
  if (op === 0) return text.slice(0, at) + text.slice(at + 1);
  if (op === 1) return text.slice(0, at) + junk[Math.floor(next() * junk.length)] + text.slice(at);
  return text.slice(0, at) + text.slice(at, at + 1) + text.slice(at);
}

describe('scanRequests: the same texts as JSON.parse', () => {
  it('agrees on hand-picked edge cases', () => {
    const cases = [
      '',
      ' ',
      '\ufeff{}',
      '{}',
      '[]',
      '[ ]',
      '{ }',
      '{"a":1,}',
      '[1,]',
      '[,1]',
      '{"a" 1}',
      '{"a":}',
      '{a:1}',
      "{'a':1}",
      '"\u0000"',
      '"\u001f"',
      '"\u007f"',
      '"\\x41"',
      '"\\u12"',
      '"\\u123G"',
      '"\\U1234"',
      '"unterminated',
      '01',
      '-',
      '-01',
      '1.',
      '.5',
      '1e',
      '1e+',
      '+1',
      '0x10',
      'NaN',
      'Infinity',
      'tru',
      'truex',
      'nul',
      'null null',
      '{"a":1}}',
      '[[[]]]',
      '[[[]]',
      '1 2',
      '\u00a01',
      '\f1',
      '{"jsonrpc":"2.0","method":"WSS_Send","params":{"data":[1,{"b":[]}]}}',
    ];
    for (const text of cases) expect(scans(text), JSON.stringify(text)).toBe(parses(text));
  });

  it('agrees on 20,000 generated texts and their mutations', () => {
    const next = random(14);
    for (let i = 0; i < 10_000; i++) {
      const text = jsonText(next);
      expect(scans(text), text).toBe(true);
      const mutated = mutate(text, next);
      expect(scans(mutated), JSON.stringify(mutated)).toBe(parses(mutated));
    }
  });

  it('scans a frame nested 100,000 deep without overflowing the stack', () => {
    expect(scans(`${'['.repeat(100_000)}${']'.repeat(100_000)}`)).toBe(true);
    expect(scans(`${'['.repeat(100_000)}${']'.repeat(99_999)}`)).toBe(false);
  });
});

/** `params.data` as parseFrame hands it on: its bytes, as text. */
function rawData(text: string): unknown {
  const parsed = parseFrame(Buffer.from(text, 'utf8'));
  if (!parsed.ok) throw new Error(`not parsed: ${text}`);
  const data = (parsed.value as { params?: { data?: unknown } }).params?.data;
  return data instanceof RawJson ? data.bytes.toString('utf8') : data;
}

describe('parseFrame', () => {
  it('keeps params.data as the exact bytes sent, and parses the rest', () => {
    const text =
      '{"jsonrpc":"2.0","id":7,"method":"WSS_Send","params":{"type":"broadcast","data": [ 1e2 , "\\u00e9" ] }}';
    const parsed = parseFrame(Buffer.from(text));
    expect(parsed.ok).toBe(true);
    const value = (parsed as { value: { id: number; params: { type: string; data: RawJson } } }).value;
    expect(value.id).toBe(7);
    expect(value.params.type).toBe('broadcast');
    expect(value.params.data.bytes.toString()).toBe('[ 1e2 , "\\u00e9" ]');
    expect(value.params.data.levels).toBe(1);
    expect(JSON.stringify(value.params)).toBe('{"type":"broadcast","data":[100,"é"]}');
  });

  it('takes the member JSON.parse keeps: the last data of the last params, escaped names included', () => {
    expect(rawData('{"params":{"data":1,"data":2}}')).toBe('2');
    expect(rawData('{"params":{"data":1},"params":{"x":{"data":3},"data":"four"}}')).toBe('"four"');
    expect(rawData('{"params":{"data":1},"params":{"x":1}}')).toBeUndefined();
    expect(rawData('{"p\\u0061rams":{"d\\u0061ta":{"deep":[]}}}')).toBe('{"deep":[]}');
    expect(rawData('{"params":{"data":null}}')).toBe('null');
    expect(rawData('{"params":{"nested":{"data":1}},"data":2}')).toBeUndefined();
  });

  it('counts the levels of the bytes relayed, a member JSON.parse drops for a later duplicate included', () => {
    const parsed = parseFrame(Buffer.from('{"params":{"data":{"a":[[[]]],"a":1}}}'));
    expect((parsed as { value: { params: { data: RawJson } } }).value.params.data.levels).toBe(4);
  });

  it('finds the data JSON.parse keeps in 5,000 generated requests', () => {
    const next = random(5);
    const member = (keys: readonly string[]): string =>
      `"${keys[Math.floor(next() * keys.length)]}": ${next() < 0.6 ? jsonText(next) : `{${paramsMembers()}}`}`;
    const paramsMembers = (): string =>
      Array.from({ length: Math.floor(next() * 4) }, (): string => member(['data', 'data', 'x', 'd\\u0061ta'])).join(
        ',',
      );
    for (let i = 0; i < 5000; i++) {
      const members = Array.from({ length: 1 + Math.floor(next() * 3) }, () =>
        next() < 0.7 ? `"params": {${paramsMembers()}}` : member(['params', 'id', 'data']),
      );
      const text = `{${members.join(', ')}}`;
      const params = (JSON.parse(text) as { params?: unknown }).params;
      const expected = typeof params === 'object' && params !== null && 'data' in params ? params.data : undefined;
      const got = rawData(text);
      expect(typeof got === 'string' ? JSON.parse(got) : got, text).toEqual(expected);
    }
  });

  it('finds data in each request of a batch, and leaves other shapes alone', () => {
    const parsed = parseFrame(
      Buffer.from(
        '[{"params":{"data":"a"}}, 5, {"params":[1]}, {"params":{"data":{"b":[true]}}}, [{"params":{"data":1}}]]',
      ),
    );
    expect(parsed.ok).toBe(true);
    const batch = (parsed as { value: unknown[] }).value;
    const data = (i: number) => (batch[i] as { params: { data: RawJson } }).params.data;
    expect(data(0).bytes.toString()).toBe('"a"');
    expect(batch[1]).toBe(5);
    expect(batch[2]).toEqual({ params: [1] });
    expect(data(3).bytes.toString()).toBe('{"b":[true]}');
    expect(data(3).levels).toBe(2);
    expect(batch[4]).toEqual([{ params: { data: 1 } }]);
  });

  it('answers not ok for anything JSON.parse refuses', () => {
    for (const text of ['', '{"params":{"data":}}', '{"params":{"data":[1,2}}', '[{"params":{"data":1}},]']) {
      expect(parseFrame(Buffer.from(text)).ok).toBe(false);
    }
  });

  it('counts the depth of data as nestsDeeperThan counts it parsed', () => {
    const next = random(32);
    for (let i = 0; i < 2000; i++) {
      const data = jsonText(next, 0, true);
      const params = `{"a":[{}],"data":${data}}`;
      const raw = parseFrame(Buffer.from(`{"params":${params}}`));
      const value = (raw as { value: { params: unknown } }).value.params;
      for (let max = 1; max < 8; max++) {
        expect(nestsDeeperThan(value, max), `${params} / ${max}`).toBe(nestsDeeperThan(JSON.parse(params), max));
      }
    }
  });
});
