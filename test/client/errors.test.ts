/** The error family: every class is a WssError with its own stable code and a readable name. */
import { describe, expect, it } from 'vitest';
import * as errors from '../../src/errors.js';

type ErrorClass = new (...args: never[]) => errors.WssError;

const classes = (Object.entries(errors) as Array<[string, unknown]>).filter(
  (entry): entry is [string, ErrorClass] =>
    typeof entry[1] === 'function' && entry[1].prototype instanceof errors.WssError,
);

/** One instance of each class, built with the arguments its constructor takes. */
function instance(Class: ErrorClass): errors.WssError {
  const make = Class as unknown as new (...args: unknown[]) => errors.WssError;
  if (Class === errors.RpcError) return new make('WSS_Send', -32003, 'denied');
  if (Class === errors.TimeoutError) return new make('WSS_Send', 50);
  if (Class === errors.ConnectionClosedError) return new make('WSS_Send', 1006, 'gone');
  if (Class === errors.NotConnectedError) return new make('send', 'disconnected');
  if (Class === errors.AbortError || Class === errors.DecryptError) return new make('send');
  if (Class === errors.DeliveryTimeoutError) return new make(60_000, ['bob']);
  if (Class === errors.PeerError) return new make('bob', 'no such item');
  return new make('something was wrong');
}

describe('the error family', () => {
  it('has seventeen classes, each named as exported, with a distinct ERR_ code', () => {
    expect(classes).toHaveLength(17);
    const codes = new Set<string>();
    for (const [exported, Class] of classes) {
      const error = instance(Class);
      expect(error).toBeInstanceOf(Error);
      expect(error).toBeInstanceOf(errors.WssError);
      expect(error).toBeInstanceOf(Class);
      expect(Object.keys(error)).toEqual(expect.arrayContaining(['code', 'name']));
      expect(error.name).toBe(exported);
      expect(error.code).toMatch(/^ERR_[A-Z_]+$/);
      expect(String(error)).toMatch(new RegExp(`^${exported}: .+`));
      codes.add(error.code);
    }
    expect(codes.size).toBe(classes.length);
  });

  it('keeps the members each class carries', () => {
    expect(new errors.RpcError('WSS_Send', -32003, 'denied', { why: 1 })).toMatchObject({
      method: 'WSS_Send',
      rpcCode: -32003,
      serverMessage: 'denied',
      data: { why: 1 },
      message: 'WSS_Send failed with server error -32003: denied',
    });
    expect(new errors.TimeoutError('WSS_Send', 50)).toMatchObject({ operation: 'WSS_Send', timeoutMs: 50 });
    expect(new errors.ConnectionClosedError('send', 1001, 'away')).toMatchObject({
      operation: 'send',
      closeCode: 1001,
      closeReason: 'away',
    });
    const frame = 'x'.repeat(300);
    expect(new errors.ProtocolError('bad', { frame }).frame).toBe(frame.slice(0, 200));
    expect(new errors.NotConnectedError('send', 'connecting').message).toBe(
      "send needs a connected session, but the state is 'connecting'; await connect() first",
    );
    expect(new errors.AbortError('connect').message).toBe('connect was aborted by its AbortSignal');
    expect(new errors.DeliveryTimeoutError(500, ['bob', 'carol'])).toMatchObject({
      deliveryTimeout: 500,
      recipients: ['bob', 'carol'],
    });
    expect(new errors.PeerError('bob', 'no such item')).toMatchObject({
      peer: 'bob',
      peerMessage: 'no such item',
      message: 'peer bob answered the request with an error: no such item',
    });
    expect(new errors.KeyFormatError('bad key').cause).toBeUndefined();
    expect('cause' in new errors.KeyFormatError('bad key')).toBe(false);
  });

  it('keeps the cause and says what to do', () => {
    const cause = new Error('socket reset');
    const error = new errors.ConnectionClosedError('WSS_Send', 1006, 'gone', { cause });
    expect(error.cause).toBe(cause);
    expect(error.message).toBe('WSS_Send failed: the connection closed (code 1006, "gone"); connect again and retry');
    expect(new errors.DecryptError().message).toBe('decryption failed');
  });

  it('says why a connection never opened where the cause tells, else what to check', () => {
    const systemError = (code: string) => Object.assign(new Error(`connect ${code}`), { code });
    const opening = (options: { cause?: unknown; httpStatus?: number }) =>
      new errors.ConnectionClosedError('opening ws://h/', 1006, '', { ...options, opening: true }).message;
    expect(opening({ cause: systemError('ECONNREFUSED') })).toBe(
      'opening ws://h/ failed: the connection was refused; check the URL and that the server is running',
    );
    // fetch wraps the system error: TypeError('fetch failed', { cause }).
    expect(opening({ cause: new TypeError('fetch failed', { cause: systemError('ENOTFOUND') }) })).toBe(
      'opening ws://h/ failed: the host name was not found; check the URL',
    );
    expect(opening({ cause: systemError('EHOSTUNREACH') })).toBe(
      'opening ws://h/ failed: the connection closed before it opened (EHOSTUNREACH); check the URL and that the server is running',
    );
    expect(opening({})).toBe(
      'opening ws://h/ failed: the connection closed before it opened (code 1006); check the URL and that the server is running',
    );
    const refused = new errors.ConnectionClosedError('opening ws://h/', 1006, '', { httpStatus: 404, opening: true });
    expect(refused.httpStatus).toBe(404);
    expect(refused.message).toBe(
      'opening ws://h/ failed: the server answered the WebSocket upgrade with HTTP 404; check the path in the URL and that a WebSocket Sessions server listens there',
    );
  });
});
