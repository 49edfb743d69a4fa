/**
 * What only some runtimes provide, installed by their entry points: the Node
 * entries (package.json condition "node") call {@link installPlatform} in
 * `src/node/setup.ts`. Every hook is a binding the portable code reads where
 * it would use it (`hook?.(...) ?? portable way`).
 *
 * The portable builds (`dist/esm/*.js` for browser bundlers, `dist/browser/`)
 * are made without the Node entries, so nothing in them calls
 * {@link installPlatform}: rollup sees every hook stay `undefined`, drops each
 * use of one, and those builds carry no byte of Node's fast paths (see
 * rollup.config.mjs).
 * @internal
 */
import type { WebSocketConstructor } from '../transport/websocket-like.js';

/**
 * AES-GCM with a 128-bit tag done at once (Node: node:crypto). The key is a
 * CryptoKey or raw key bytes (16, 24 or 32). Returns `undefined` for what it
 * does not take (a key it cannot use, an IV other than 12 bytes, a large
 * input), which then goes to WebCrypto; throws what `aesGcm` rejects with
 * when the operation fails: DecryptError when decrypting, InvalidArgumentError when encrypting.
 */
export type SyncAesGcm = (
  op: 'encrypt' | 'decrypt',
  key: CryptoKey | Uint8Array<ArrayBuffer>,
  iv: Uint8Array<ArrayBuffer>,
  data: Uint8Array<ArrayBuffer>,
  additionalData?: Uint8Array<ArrayBuffer>,
) => Uint8Array<ArrayBuffer> | undefined;

/**
 * AES-GCM encryption of `text`'s UTF-8 bytes under a 12-byte IV, returned as
 * standard base64 of ciphertext ‖ 16-byte tag (a Signal envelope's `ct`),
 * done at once; `undefined` for what it does not take.
 */
export type SyncSeal = (key: CryptoKey, iv: Uint8Array<ArrayBuffer>, text: string) => string | undefined;

/** The hooks a runtime's entry point may install; each absent one leaves the portable way. */
export interface PlatformHooks {
  /** Loads a WebSocket constructor where the runtime has no global one (Node: the `ws` package). */
  loadWebSocket?: () => Promise<WebSocketConstructor>;
  /** Adapts a resolved WebSocket constructor (Node: `ws` with coalesced writes, src/node/coalesce.ts). */
  adaptWebSocket?: (ctor: WebSocketConstructor) => WebSocketConstructor;
  /** AES-GCM done at once, tried before WebCrypto. */
  syncAesGcm?: SyncAesGcm;
  /** A Signal envelope's text sealed straight to base64, tried before the general way. */
  syncSeal?: SyncSeal;
  /**
   * Strict base64 decode whose bytes may be a view into shared memory (read
   * at once, never kept), sparing a copy; `undefined` for text it refuses.
   */
  decodeBase64View?: (text: string) => Uint8Array<ArrayBuffer> | undefined;
}

export let loadWebSocket: PlatformHooks['loadWebSocket'];
export let adaptWebSocket: PlatformHooks['adaptWebSocket'];
export let syncAesGcm: PlatformHooks['syncAesGcm'];
export let syncSeal: PlatformHooks['syncSeal'];
export let decodeBase64View: PlatformHooks['decodeBase64View'];

/** Installs a runtime's hooks; for its entry point, once, before any use. */
export function installPlatform(hooks: PlatformHooks): void {
  ({ loadWebSocket, adaptWebSocket, syncAesGcm, syncSeal, decodeBase64View } = hooks);
}
