import type { WebSocketConstructor } from '../transport/websocket-like.js';

/**
 * What only some runtimes provide, filled in by their entry points: the Node
 * entries (package.json condition "node") set it in `src/node/setup.ts`.
 * Browser bundles never reach that module, so they carry no Node code.
 * @internal
 */
export const platform: {
  /** Loads a WebSocket constructor where the runtime has no global one (Node: the `ws` package). */
  loadWebSocket?: () => Promise<WebSocketConstructor>;
  /** Adapts a resolved WebSocket constructor to the runtime (Node: coalesced writes, see src/node/coalesce.ts). */
  adaptWebSocket?: (ctor: WebSocketConstructor) => WebSocketConstructor;
} = {};
