/** A scripted in-memory WebSocket for the legacy client's unit tests: no network, no timers. */

type Json = Record<string, any>;
/** Answers one request: a response object, or `null` to stay silent. */
export type Script = (request: Json) => Json | null;

/** A server that accepts everything, like the reference server would. */
export const acceptAll: Script = (request) => {
  const ok = (result: unknown) => ({ jsonrpc: '2.0', id: request.id, result });
  switch (request.method) {
    case 'WSS_Handshake':
      return ok({
        message: 'accept',
        numconnections: 1,
        maxconnections: 10,
        peerconnections: 0,
        server_token: 'b'.repeat(64),
      });
    case 'WSS_Connect':
      return ok({ message: 'open', private_id: 'me', connect: ['p1'], options: [{ wss: true, name: 'p1' }] });
    case 'WSS_Session':
      return ok({ privateID: request.params.privateID });
    default:
      return ok({ message: 'ok' });
  }
};

/** Makes socket classes that answer with `script` and remember every instance and request. */
export function scriptedSockets(script: Script) {
  const sockets: ScriptedSocket[] = [];
  class ScriptedSocket {
    readyState = 0;
    onopen: ((e: unknown) => void) | null = null;
    onmessage: ((e: { data: unknown }) => void) | null = null;
    onclose: ((e: { code: number; reason: string }) => void) | null = null;
    onerror: ((e: unknown) => void) | null = null;
    readonly requests: Json[] = [];
    closeCalls: Array<[number | undefined, string | undefined]> = [];
    readonly closeListeners: Array<() => void> = [];

    constructor(readonly url: string) {
      sockets.push(this);
      queueMicrotask(() => {
        this.readyState = 1;
        this.onopen?.({});
      });
    }

    send(frame: string): void {
      const request = JSON.parse(frame) as Json;
      this.requests.push(request);
      const response = script(request);
      if (response) queueMicrotask(() => this.onmessage?.({ data: JSON.stringify(response) }));
    }

    /** Delivers a frame from the "server". */
    push(message: Json): void {
      this.onmessage?.({ data: JSON.stringify(message) });
    }

    close(code?: number, reason?: string): void {
      this.closeCalls.push([code, reason]);
      if (this.readyState >= 2) return;
      this.readyState = 2;
      queueMicrotask(() => {
        this.readyState = 3;
        this.onclose?.({ code: code ?? 1005, reason: reason ?? '' });
        for (const listener of this.closeListeners.splice(0)) listener();
      });
    }

    addEventListener(type: string, listener: () => void): void {
      if (type === 'close') this.closeListeners.push(listener);
    }
  }
  return { sockets, ScriptedSocket };
}
