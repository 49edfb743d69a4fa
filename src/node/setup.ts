/**
 * Node's share of the client side, run once by every Node entry point
 * (src/node/*.ts, reached through package.json's "node" condition) and by the
 * server: base64 on `Buffer` where the engine has no native base64, AES-GCM on
 * node:crypto's synchronous cipher, the `ws` package where there is no
 * global WebSocket, and `ws` sockets that write bursts of frames at once.
 */
import { useSyncAesGcm } from '../crypto/aead.js';
import { createBufferBase64, type BufferLike } from '../crypto/base64-codecs.js';
import { base64Implementation, useBase64Codec } from '../crypto/base64.js';
import { useSyncSeal } from '../crypto/signal-crypto.js';
import { UnsupportedEnvironmentError } from '../errors.js';
import type { WebSocketConstructor } from '../transport/websocket.js';
import { platform } from '../util/platform.js';
import { nodeAesGcm, nodeSealText } from './aes-gcm.js';
import { coalescingWebSocket } from './coalesce.js';

/**
 * Imported by a name held in a variable, so that a bundler given the CommonJS
 * build for a browser leaves it alone instead of bundling `ws`'s browser stub.
 */
const WS_PACKAGE: string = 'ws';

if (base64Implementation === 'fallback') useBase64Codec(createBufferBase64(Buffer as unknown as BufferLike));
useSyncAesGcm(nodeAesGcm);
useSyncSeal(nodeSealText);
platform.adaptWebSocket = coalescingWebSocket;

platform.loadWebSocket = async () => {
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
};
