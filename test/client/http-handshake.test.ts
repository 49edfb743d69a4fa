import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import {
  AbortError,
  ProtocolError,
  RpcError,
  TimeoutError,
  UnsupportedEnvironmentError,
  WSSClient,
  type FetchFunction,
} from '../../src/index.js';
import { resolveFetch } from '../../src/transport/http.js';
import { resolveWebSocket } from '../../src/transport/websocket.js';
import { MockWss } from './mock-server.js';

function clientWithFetch(fetchFn: FetchFunction, requestTimeout = 1000) {
  const mock = new MockWss();
  const client = new WSSClient({
    url: mock.url,
    WebSocket: mock.WebSocket,
    handshakeUrl: 'http://handshake.test/',
    fetch: fetchFn,
    requestTimeout,
  });
  return { mock, client };
}

const answer =
  (body: string, status = 200): FetchFunction =>
  async () =>
    new Response(body, { status, headers: { 'Content-Type': 'application/json-rpc' } });

describe('HTTP handshake', () => {
  it('POSTs WSS_Handshake as JSON-RPC and then connects over the socket', async () => {
    const seen: Array<{ url: string; body: unknown; method?: string }> = [];
    const fetchFn: FetchFunction = async (url, init) => {
      seen.push({ url, body: JSON.parse(String(init.body)), method: init.method });
      return new Response(
        JSON.stringify({ jsonrpc: '2.0', id: '0', result: { message: 'accept', server_token: 'b'.repeat(64) } }),
      );
    };
    const { mock, client } = clientWithFetch(fetchFn);
    await client.connect();
    expect(seen).toEqual([
      {
        url: 'http://handshake.test/',
        method: 'POST',
        body: { jsonrpc: '2.0', method: 'WSS_Handshake', params: { user_token: client.userToken }, id: '0' },
      },
    ]);
    expect(mock.received.map((r) => r.method)).toEqual(['WSS_Connect']);
    expect(mock.received[0]?.params.server_token).toBe('b'.repeat(64));
    await client.disconnect();
    mock.stop();
  });

  it('maps an error response to RpcError and a non-JSON body to ProtocolError, opening no socket', async () => {
    const refused = clientWithFetch(
      answer(
        JSON.stringify({
          jsonrpc: '2.0',
          id: '0',
          error: { code: -32001, message: 'Too many connections from your IP.' },
        }),
      ),
    );
    await expect(refused.client.connect()).rejects.toBeInstanceOf(RpcError);
    const garbage = clientWithFetch(answer('<html>502</html>', 502));
    await expect(garbage.client.connect()).rejects.toBeInstanceOf(ProtocolError);
    expect(refused.mock.socket).toBeNull();
    expect(garbage.client.state).toBe('disconnected');
    refused.mock.stop();
    garbage.mock.stop();
  });

  it('times out a handshake that never answers', async () => {
    const never: FetchFunction = (_url, init) =>
      new Promise((_resolve, reject) =>
        init.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))),
      );
    const { client, mock } = clientWithFetch(never, 30);
    await expect(client.connect()).rejects.toBeInstanceOf(TimeoutError);
    mock.stop();
  });

  it('an abort cancels the POST: AbortError with the reason as cause, and no listener left on the signal', async () => {
    let posted = (): void => {};
    const started = new Promise<void>((resolve) => (posted = resolve));
    const never: FetchFunction = (_url, init) =>
      new Promise((_resolve, reject) => {
        init.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
        posted();
      });
    const { client, mock } = clientWithFetch(never);
    const controller = new AbortController();
    const connecting = client.connect({ signal: controller.signal });
    await started;
    expect(getEventListeners(controller.signal, 'abort')).not.toEqual([]);
    const reason = new Error('user left');
    controller.abort(reason);
    await expect(connecting).rejects.toBeInstanceOf(AbortError);
    await expect(connecting).rejects.toMatchObject({ cause: reason });
    expect(getEventListeners(controller.signal, 'abort')).toEqual([]);
    expect(mock.socket).toBeNull();
    mock.stop();
  });
});

describe('environment resolution', () => {
  it('fails with a fix-it message when no fetch exists', () => {
    const saved = globalThis.fetch;
    try {
      (globalThis as { fetch?: unknown }).fetch = undefined;
      expect(() => resolveFetch()).toThrow(UnsupportedEnvironmentError);
      expect(() => resolveFetch()).toThrow(/pass a fetch function as the `fetch` option/);
    } finally {
      globalThis.fetch = saved;
    }
  });

  it('in Node without a global WebSocket, falls back to the ws package', async () => {
    const Ctor = await resolveWebSocket();
    const { WebSocket } = await import('ws');
    expect(Ctor).toBe(globalThis.WebSocket ?? WebSocket);
  });
});
