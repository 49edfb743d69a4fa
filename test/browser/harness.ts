/**
 * Browser test harness: Debian's Chromium driven by playwright-core (never a
 * downloaded browser), pages served over loopback HTTP (a secure context) from
 * the built bundles in dist/, and a record of every uncaught page error and
 * console error so that tests can assert there were none. {@link useBrowserSuite}
 * sets all of it up, with a reference server, for one test file.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { createServer as createWssServer, type ServerOptions, type WssSessionsServer } from '../../src/server/index.js';

export const ROOT = resolve(import.meta.dirname, '../..');

/** Where Chromium is looked for; `CHROMIUM_PATH` overrides Debian's path. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** The flags the sandboxed, offline test machines need (no background traffic, no QUIC, no sandbox as root). */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** Launches headless Chromium, or fails saying how to install it. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `The browser tests need Chromium, and there is none at ${CHROMIUM_PATH}. ` +
        "Install Debian's package with 'apt-get update && apt-get install -y chromium' " +
        '(or set CHROMIUM_PATH to a Chromium binary). Browsers are never downloaded by the tests.',
    );
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}

/** A page in its own browser context (own storage, own cookies), and what went wrong in it. */
export interface TestPage {
  readonly page: Page;
  readonly context: BrowserContext;
  /** Uncaught exceptions and console errors, in order. */
  readonly errors: string[];
}

/** Opens `url` in a fresh context and records uncaught errors and console errors from then on. */
export function openPage(browser: Browser, url: string): Promise<TestPage> {
  return openContextPage(browser, url, false);
}

async function openContextPage(browser: Browser, url: string, recorder: boolean): Promise<TestPage> {
  const context = await browser.newContext();
  if (recorder) await context.addInitScript(installRecorder);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`));
  page.on('console', (message) => {
    // WSS_BROWSER_CONSOLE=1 shows the pages' console output while debugging a test.
    if (process.env.WSS_BROWSER_CONSOLE) console.log(`[page ${message.type()}] ${message.text()}`);
    if (message.type() === 'error') errors.push(`console.error: ${message.text()}`);
  });
  await page.goto(url);
  return { page, context, errors };
}

/** The built files the pages may load, by URL path. */
const DIST_FILES = ['index', 'secure', 'crypto', 'signal', 'legacy']
  .map((name) => `/dist/browser/${name}.js`)
  .concat('/dist/legacy/wssclient.js');

/**
 * A blank page with `window.loadModule(url)`, a plain dynamic `import()` (written here as page
 * text, because the test runner rewrites `import()` inside functions passed to `evaluate`).
 * No favicon request: it would log a 404 console error.
 */
export const BLANK_PAGE =
  '<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>test</title>' +
  '<script>window.loadModule = (url) => import(url);</script></head><body></body></html>';

/** Serves the built browser bundles and the given HTML pages on 127.0.0.1, port 0. */
export class AssetServer {
  readonly #http: Server;
  readonly origin: string;

  private constructor(http: Server, origin: string) {
    this.#http = http;
    this.origin = origin;
  }

  /** @param pages HTML by URL path, e.g. `{ '/': BLANK_PAGE }`. */
  static async start(pages: Record<string, string> = { '/': BLANK_PAGE }): Promise<AssetServer> {
    const missing = DIST_FILES.filter((file) => !existsSync(join(ROOT, file)));
    if (missing.length > 0)
      throw new Error(
        `The browser tests load the built bundles; ${missing.join(', ')} missing: run 'npm run build' first`,
      );
    const http = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      const send = (status: number, type: string, body: string | Buffer): void => {
        res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' });
        res.end(body);
      };
      if (pages[path] !== undefined) return send(200, 'text/html; charset=utf-8', pages[path]);
      if (!DIST_FILES.includes(path)) return send(404, 'text/plain', `not served: ${path}`);
      readFile(join(ROOT, path)).then(
        (body) => send(200, 'text/javascript; charset=utf-8', body),
        (error: Error) => send(500, 'text/plain', error.message),
      );
    });
    await new Promise<void>((done) => http.listen(0, '127.0.0.1', done));
    const address = http.address();
    if (address === null || typeof address === 'string') throw new Error('asset server has no TCP address');
    return new AssetServer(http, `http://127.0.0.1:${address.port}`);
  }

  close(): Promise<void> {
    this.#http.closeAllConnections();
    return new Promise((done) => this.#http.close(() => done()));
  }
}

/** One event a page recorded: its name and a JSON copy of its payload (without `raw`; errors as name, code, message). */
export interface LogEntry {
  readonly event: string;
  readonly tag: string;
  readonly payload: Record<string, unknown>;
}

/** What {@link installRecorder} puts on `window`. */
export interface PageGlobals {
  log: LogEntry[];
  /** `import(url)` in the page (present on {@link BLANK_PAGE}). */
  loadModule(url: string): Promise<unknown>;
  /** The page's objects under test, by name. */
  objects: Record<string, unknown>;
  /** Logs every listed event of an eventemitter-style object, under `tag`. */
  record(
    emitter: { on(name: string, listener: (payload: unknown) => void): unknown },
    names: readonly string[],
    tag: string,
  ): void;
}

/** Runs in each page before its scripts (see {@link addRecorder}); self-contained, as it is serialized into the page. */
function installRecorder(): void {
  const w = window as unknown as PageGlobals;
  w.log = [];
  w.objects = {};
  const plain = (value: unknown): Record<string, unknown> => {
    if (value instanceof Error)
      return { name: value.name, code: (value as { code?: unknown }).code, message: value.message };
    return JSON.parse(JSON.stringify(value ?? {}, (key, v: unknown) => (key === 'raw' ? undefined : v))) as Record<
      string,
      unknown
    >;
  };
  w.record = (emitter, names, tag) => {
    for (const name of names) emitter.on(name, (payload) => w.log.push({ event: name, tag, payload: plain(payload) }));
  };
}

/** Opens `url` in a fresh context whose pages have the event recorder (`window.log`, `window.record`). */
export function openRecordingPage(browser: Browser, url: string): Promise<TestPage> {
  return openContextPage(browser, url, true);
}

/**
 * Waits until the page has logged `event` (under `tag`) whose payload has every member of
 * `match` (compared as JSON), and returns that entry's payload. Waits on the page, never sleeps.
 */
export async function waitForEvent(
  page: Page,
  tag: string,
  event: string,
  match: Record<string, unknown> = {},
): Promise<Record<string, unknown>> {
  const handle = await page.waitForFunction(
    ({ tag, event, match }) => {
      const log = (window as unknown as PageGlobals).log;
      const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
      return (
        log.find(
          (e) => e.tag === tag && e.event === event && Object.entries(match).every(([k, v]) => same(e.payload[k], v)),
        )?.payload ?? false
      );
    },
    { tag, event, match },
  );
  return (await handle.jsonValue()) as Record<string, unknown>;
}

/** Every entry the page logged under `tag` (optionally only `event`). */
export function eventsOf(page: Page, tag: string, event?: string): Promise<LogEntry[]> {
  return page.evaluate(
    ({ tag, event }) =>
      (window as unknown as PageGlobals).log.filter((e) => e.tag === tag && (event === undefined || e.event === event)),
    { tag, event },
  );
}

/** Reference-server options for a browser suite: all but the address, which is always 127.0.0.1, port 0. */
export type SuiteServerOptions = Omit<ServerOptions, 'port' | 'host'>;

/** What {@link useBrowserSuite} starts. */
export interface BrowserSuiteOptions {
  /** The reference server's options, or a function making them (it runs in `beforeAll`). Default: none. */
  server?: SuiteServerOptions | (() => Promise<SuiteServerOptions>);
  /** HTML the asset server serves by URL path (default `{ '/': BLANK_PAGE }`); `null` starts no asset server. */
  pages?: Record<string, string> | null;
}

/** What a browser test file shares; its members are there from `beforeAll` on, so read them in tests and hooks. */
export interface BrowserSuite {
  readonly browser: Browser;
  readonly server: WssSessionsServer;
  /** Throws when the suite was made with `pages: null`. */
  readonly assets: AssetServer;
  /**
   * Opens `url` in a fresh context, with the event recorder (see {@link openRecordingPage}) when
   * `record` is set. After each test the suite closes the context and asserts the page had no errors.
   */
  open(url: string, options?: { record?: boolean }): Promise<TestPage>;
}

/**
 * Registers the hooks of a browser test file: `beforeAll` launches Chromium and starts the asset
 * server and a reference server (127.0.0.1, port 0); `afterEach` closes every page the test opened
 * and asserts none had an uncaught error or console error; `afterAll` closes what was started,
 * also after a partly failed start.
 *
 * @example
 * const suite = useBrowserSuite({ server: { hooks } });
 * it('connects', async () => {
 *   const { page } = await suite.open(`${suite.assets.origin}/`, { record: true });
 * });
 */
export function useBrowserSuite(options: BrowserSuiteOptions = {}): BrowserSuite {
  const started: { browser?: Browser; server?: WssSessionsServer; assets?: AssetServer } = {};
  const pages: TestPage[] = [];
  const pagesToServe = options.pages === undefined ? { '/': BLANK_PAGE } : options.pages;

  beforeAll(async () => {
    const serverOptions = typeof options.server === 'function' ? await options.server() : options.server;
    const outcomes = await Promise.allSettled([
      launchChromium().then((browser) => (started.browser = browser)),
      pagesToServe === null ? undefined : AssetServer.start(pagesToServe).then((assets) => (started.assets = assets)),
      createWssServer({ ...serverOptions, port: 0, host: '127.0.0.1' }).then((server) => (started.server = server)),
    ]);
    const failed = outcomes.find((outcome) => outcome.status === 'rejected');
    if (failed) throw failed.reason;
  });

  afterEach(async () => {
    const open = pages.splice(0);
    await Promise.all(open.map(({ context }) => context.close()));
    for (const { errors } of open) expect(errors).toEqual([]);
  });

  afterAll(async () => {
    await Promise.all([started.browser?.close(), started.assets?.close(), started.server?.close()]);
  });

  return {
    get browser() {
      return need(started.browser, 'the browser');
    },
    get server() {
      return need(started.server, 'the reference server');
    },
    get assets() {
      if (pagesToServe === null)
        throw new Error(
          'This browser suite has no asset server (pages: null); pass pages to useBrowserSuite to get one',
        );
      return need(started.assets, 'the asset server');
    },
    async open(url, { record = false } = {}) {
      const page = await (record ? openRecordingPage : openPage)(need(started.browser, 'the browser'), url);
      pages.push(page);
      return page;
    },
  };
}

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined)
    throw new Error(`${what} is not started yet: use the browser suite inside tests and hooks, after its beforeAll`);
  return value;
}
