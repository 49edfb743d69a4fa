/** Lets the compatibility client expose the WebSocket the typed client opens, as `webSocket`. */
import type { WebSocketConstructor, WebSocketLike } from '../src/transport/websocket-like.js';

/** A socket as browsers and `ws` make them: `WebSocketLike` plus listener methods. */
export type CapturedSocket = WebSocketLike & {
  addEventListener?(type: 'close', listener: (event: unknown) => void, options?: { once?: boolean }): void;
};

/** A constructor that makes sockets with `Ctor` and reports each one to `onCreate`. */
export function capturingConstructor(
  Ctor: WebSocketConstructor,
  onCreate: (socket: CapturedSocket) => void,
): WebSocketConstructor {
  // A constructor that returns an object makes `new` yield that object: the socket itself, unwrapped.
  function Capturing(url: string): CapturedSocket {
    const socket = new Ctor(url) as CapturedSocket;
    onCreate(socket);
    return socket;
  }
  return Capturing as unknown as WebSocketConstructor;
}

/** Resolves once `socket` is closed (at once if it already is, or if it cannot tell us). */
export async function socketClosed(socket: CapturedSocket | null): Promise<void> {
  // readyState 3 is CLOSED.
  if (socket?.addEventListener && socket.readyState !== 3) {
    await new Promise((resolve) => socket.addEventListener?.('close', resolve, { once: true }));
  }
}
