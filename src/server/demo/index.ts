/**
 * The chat demo served by the reference server: GET / is a small chat page
 * (POST / stays the WSS handshake) built on the package's own browser bundle,
 * which is served at /lib/secure.js from dist/browser.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../util/logger.js';
import { reply } from '../http.js';
import type { RouteTable, ServerComponent } from '../routes.js';
import { findBrowserBundles } from './assets.js';
import { DEMO_CSS, DEMO_HTML } from './page.js';
import { DEMO_PEERS_SCRIPT } from './peers.js';
import { DEMO_SCRIPT } from './script.js';

/** Where the demo's files are served. */
export const DEMO_PATHS = Object.freeze({
  page: '/',
  script: '/demo/chat.js',
  peers: '/demo/peers.js',
  style: '/demo/chat.css',
  bundle: '/lib/secure.js',
});

const BUNDLE_FILE = 'secure.js';

/** Same-origin only: the page loads its own files and talks to its own server. */
const PAGE_HEADERS = Object.freeze({
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self' ws: wss:; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-cache',
});

function serve(type: string, body: string): (req: IncomingMessage, res: ServerResponse) => void {
  return (_req, res) => reply(res, 200, body, { 'Content-Type': type, ...PAGE_HEADERS });
}

/** Serves the chat demo page, its script and style, and the SecureSession browser bundle. */
export class DemoPage implements ServerComponent {
  readonly #logger: Logger;
  readonly #bundleDir: string | undefined;
  #bundle: Promise<string> | null = null;

  /** @param bundleDir folder of the browser bundles; found next to the built package by default. */
  constructor(logger: Logger, bundleDir: string | undefined = findBrowserBundles(BUNDLE_FILE)) {
    this.#logger = logger;
    this.#bundleDir = bundleDir;
  }

  mount(routes: RouteTable): void {
    routes.addHttp('GET', DEMO_PATHS.page, serve('text/html; charset=utf-8', DEMO_HTML));
    routes.addHttp('GET', DEMO_PATHS.script, serve('text/javascript; charset=utf-8', DEMO_SCRIPT));
    routes.addHttp('GET', DEMO_PATHS.peers, serve('text/javascript; charset=utf-8', DEMO_PEERS_SCRIPT));
    routes.addHttp('GET', DEMO_PATHS.style, serve('text/css; charset=utf-8', DEMO_CSS));
    routes.addHttp('GET', DEMO_PATHS.bundle, (_req, res) => this.#serveBundle(res));
  }

  close(): void {
    this.#bundle = null;
  }

  async #serveBundle(res: ServerResponse): Promise<void> {
    const text = 'text/plain; charset=utf-8';
    if (!this.#bundleDir) {
      this.#logger.warn(
        `demo: dist/browser/${BUNDLE_FILE} was not found; build the package (npm run build) to serve the chat page`,
      );
      reply(res, 503, `The browser bundle ${BUNDLE_FILE} is missing: build the package with 'npm run build'.\n`, {
        'Content-Type': text,
      });
      return;
    }
    // Read once: the bundle does not change while the server runs.
    this.#bundle ??= readFile(join(this.#bundleDir, BUNDLE_FILE), 'utf8');
    let body: string;
    try {
      body = await this.#bundle;
    } catch (error) {
      this.#bundle = null;
      this.#logger.error(`demo: could not read ${join(this.#bundleDir, BUNDLE_FILE)}`, error);
      reply(res, 503, `The browser bundle ${BUNDLE_FILE} could not be read.\n`, { 'Content-Type': text });
      return;
    }
    reply(res, 200, body, { 'Content-Type': 'text/javascript; charset=utf-8', ...PAGE_HEADERS });
  }
}
