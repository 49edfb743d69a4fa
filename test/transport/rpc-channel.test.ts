import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  AbortError,
  ConnectionClosedError,
  InvalidArgumentError,
  ProtocolError,
  RpcError,
  TimeoutError,
  type Logger,
} from '../../src/index.js';
import type { Push } from '../../src/protocol/validate.js';
import { RpcChannel } from '../../src/transport/rpc-channel.js';

/** A channel on a fake `send`: no socket anywhere. */
function setup(requestTimeout = 1000) {
  const sent: string[] = [];
  const pushes: Push[] = [];
  const errors: ProtocolError[] = [];
  const logger: Logger = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() };
  let refuse: Error | undefined;
  const channel = new RpcChannel(
    { requestTimeout, logger },
    {
      send: (frame) => {
        if (refuse) throw refuse;
        sent.push(frame);
      },
      push: (push) => pushes.push(push),
      error: (error) => errors.push(error),
    },
  );
  const answer = (id: string, result: unknown): void => channel.receive(JSON.stringify({ jsonrpc: '2.0', id, result }));
  return { channel, sent, pushes, errors, logger, answer, refuse: (error: Error) => (refuse = error) };
}

const asIs = (result: unknown): unknown => result;

afterEach(() => {
  vi.useRealTimers();
});

describe('RpcChannel fed frames by hand', () => {
  it("writes json-rpc-2.0's request frames and settles each by its id, pushes aside", async () => {
    const { channel, sent, pushes, answer } = setup();
    const first = channel.request('A', { x: 1 }, asIs);
    const second = channel.request('B', [2], (result) => `parsed ${String(result)}`);
    expect(sent).toEqual([
      '{"jsonrpc":"2.0","method":"A","params":{"x":1},"id":"1"}',
      '{"jsonrpc":"2.0","method":"B","params":[2],"id":"2"}',
    ]);
    channel.receive(
      JSON.stringify([
        { jsonrpc: '2.0', result: { type: 'broadcast', from: 'p', data: 1 } },
        { jsonrpc: '2.0', id: '2', result: 'b' },
      ]),
    );
    answer('1', 'a');
    expect(await first).toBe('a');
    expect(await second).toBe('parsed b');
    expect(pushes).toMatchObject([{ event: 'message', payload: { type: 'broadcast', from: 'p', data: 1 } }]);
  });

  it('rejects with RpcError or what the parser throws; reports bad frames and stays usable', async () => {
    const { channel, errors, logger, answer } = setup();
    const failed = channel.request('A', [], asIs);
    channel.receive('{"jsonrpc":"2.0","id":"1","error":{"code":-32001,"message":"no","data":3}}');
    await expect(failed).rejects.toMatchObject({ constructor: RpcError, method: 'A', rpcCode: -32001, data: 3 });
    const refused = new ProtocolError('bad result');
    const parsed = channel.request('B', [], () => {
      throw refused;
    });
    answer('2', 1);
    await expect(parsed).rejects.toBe(refused);
    channel.receive('not json');
    channel.receive('{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}');
    expect(errors).toHaveLength(2);
    for (const e of errors) expect(e).toBeInstanceOf(ProtocolError);
    answer('9', 'late');
    expect(logger.warn).toHaveBeenCalledWith(expect.stringContaining('id "9"'));
    const again = channel.request('C', [], asIs);
    answer('3', 'ok');
    expect(await again).toBe('ok');
  });

  it('a refused send or unserialisable params reject the request and leave nothing pending', async () => {
    vi.useFakeTimers();
    const { channel, sent, refuse } = setup();
    await expect(channel.request('A', [10n], asIs)).rejects.toBeInstanceOf(InvalidArgumentError);
    const gone = new Error('socket gone');
    refuse(gone);
    await expect(channel.request('B', [], asIs)).rejects.toMatchObject({
      constructor: ConnectionClosedError,
      operation: 'B',
      cause: gone,
    });
    expect(sent).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('takes an answer fed back from within send()', async () => {
    const channel: RpcChannel = new RpcChannel(
      { requestTimeout: 1000, logger: { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() } },
      {
        send: (frame) =>
          channel.receive(
            JSON.stringify({ jsonrpc: '2.0', id: (JSON.parse(frame) as { id: string }).id, result: 'echo' }),
          ),
        push: vi.fn(),
        error: vi.fn(),
      },
    );
    expect(await channel.request('A', [], asIs)).toBe('echo');
  });

  it('on close, every pending request rejects with its own ConnectionClosedError, later ones at once; no timer is left', async () => {
    vi.useFakeTimers();
    const { channel } = setup();
    const controller = new AbortController();
    const remove = vi.spyOn(controller.signal, 'removeEventListener');
    const calls = [
      channel.request('A', [], asIs),
      channel.request('B', [], asIs, { timeoutMs: 50, signal: controller.signal }),
    ];
    expect(vi.getTimerCount()).toBe(2);
    channel.close({ code: 4001, reason: 'bye' });
    const reasons = (await Promise.allSettled(calls)).map((r) => (r.status === 'rejected' ? r.reason : null));
    expect(reasons).toMatchObject([
      { constructor: ConnectionClosedError, operation: 'A', closeCode: 4001, closeReason: 'bye' },
      { constructor: ConnectionClosedError, operation: 'B', closeCode: 4001, closeReason: 'bye' },
    ]);
    expect(reasons[0]).not.toBe(reasons[1]);
    expect(vi.getTimerCount()).toBe(0);
    expect(remove).toHaveBeenCalledWith('abort', expect.any(Function));
    await expect(channel.request('C', [], asIs)).rejects.toMatchObject({
      constructor: ConnectionClosedError,
      closeCode: 4001,
    });
  });

  it('times out on the shared default timer in deadline order, or on a timer of its own; aborts', async () => {
    vi.useFakeTimers();
    const { channel, answer } = setup(100);
    const first = channel.request('A', [], asIs);
    vi.advanceTimersByTime(60);
    const second = channel.request('B', [], asIs);
    const own = channel.request('C', [], asIs, { timeoutMs: 500 });
    expect(vi.getTimerCount()).toBe(2);
    const firstFailed = expect(first).rejects.toMatchObject({
      constructor: TimeoutError,
      operation: 'A',
      timeoutMs: 100,
    });
    vi.advanceTimersByTime(40);
    await firstFailed;
    const secondFailed = expect(second).rejects.toMatchObject({ constructor: TimeoutError, operation: 'B' });
    vi.advanceTimersByTime(60);
    await secondFailed;
    answer('3', 'in time');
    expect(await own).toBe('in time');
    expect(vi.getTimerCount()).toBe(0);
    const controller = new AbortController();
    const aborted = channel.request('D', [], asIs, { signal: controller.signal });
    controller.abort();
    await expect(aborted).rejects.toBeInstanceOf(AbortError);
    await expect(channel.request('E', [], asIs, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortError);
    expect(vi.getTimerCount()).toBe(0);
  });
});
