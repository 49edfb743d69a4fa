/**
 * Node's share of the client side, run once by every Node entry point
 * (src/node/*.ts, reached through package.json's "node" condition) and by the
 * server: base64 on `Buffer` where the engine has no native base64, AES-GCM on
 * node:crypto's synchronous cipher, the `ws` package where there is no
 * global WebSocket, and `ws` sockets that write bursts of frames at once.
 */
import { createBufferBase64, type BufferLike } from '../crypto/base64-codecs.js';
import { base64Implementation, useBase64Codec } from '../crypto/base64.js';
import { UnsupportedEnvironmentError } from '../errors.js';
import type { WebSocketConstructor } from '../transport/websocket.js';
import { installPlatform } from '../util/platform.js';
import { nodeAesGcm, nodeSealText } from './aes-gcm.js';
import { coalescingWebSocket } from './coalesce.js';

/**
 * Imported by a name held in a variable, so that a bundler given the CommonJS
 * build for a browser leaves it alone instead of bundling `ws`'s browser stub.
 */
const WS_PACKAGE: string = 'ws';

/** Where the engine has no native base64: `Buffer`'s, whose decode can also hand out a view without a copy. */
const bufferBase64 =
  base64Implementation === 'fallback' ? createBufferBase64(Buffer as unknown as BufferLike) : undefined;
if (bufferBase64) useBase64Codec(bufferBase64);

/** Loads `ws`, with a fix-it message when it is missing. */
async function loadWs(): Promise<WebSocketConstructor> {
  try {
    const mod = (await import(/* webpackIgnore: true */ /* @vite-ignore */ WS_PACKAGE)) as {
      WebSocket?: WebSocketConstructor;
      default?: WebSocketConstructor;
    };
    const ctor = mod.WebSocket ?? mod.default;
    if (ctor) return ctor;
  } catch (cause) {
    throw new UnsupportedEnvironmentError(
      'No WebSocket found: install the `ws` package (npm i ws) or pass the `WebSocket` option',
      { cause },
    );
  }
  throw new UnsupportedEnvironmentError(
    'The `ws` package exports no WebSocket: reinstall it (npm i ws) or pass the `WebSocket` option',
  );
}

installPlatform({
  loadWebSocket: loadWs,
  adaptWebSocket: coalescingWebSocket,
  syncAesGcm: nodeAesGcm,
  syncSeal: nodeSealText,
  decodeBase64View: bufferBase64?.decodeView,
});
