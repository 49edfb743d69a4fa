/**
 * The chat demo component over HTTP: the page, its scripts and style, the SecureSession
 * browser bundle from dist/browser, the `demo` option and `--no-demo`, and how the bundle
 * folder is found from the built server module; and the page's peer book, imported as served,
 * for the safety-number cases a real server does not produce on demand. The page itself is
 * driven in a browser by test/browser/demo.test.ts.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.js';
import { main, type CliIo } from '../../src/server/cli.js';
import { findBrowserBundles } from '../../src/server/demo/assets.js';
import { DEMO_PATHS } from '../../src/server/demo/index.js';
import { createServer, type WssSessionsServer } from '../../src/server/index.js';
import { silentLogger } from '../../src/util/logger.js';

const ROOT = resolve(import.meta.dirname, '../..');
const BUNDLE = join(ROOT, 'dist/browser/secure.js');

let server: WssSessionsServer;

beforeAll(async () => {
  server = await createServer({ port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  await server?.close();
});

describe('the chat demo routes', () => {
  it('serves the page at GET / (and HEAD) with a same-origin content security policy', async () => {
    const res = await fetch(`${server.httpUrl}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await res.text();
    expect(html).toContain(`<script type="module" src="${DEMO_PATHS.script}"></script>`);
    expect(html).toContain(`href="${DEMO_PATHS.style}"`);
    const head = await fetch(`${server.httpUrl}/`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('serves a page without inline handlers or styles, with a label for every control', async () => {
    const html = await (await fetch(`${server.httpUrl}/`)).text();
    expect(html).not.toMatch(/\son[a-z]+\s*=/i);
    expect(html).not.toMatch(/\sstyle\s*=|<style/i);
    const controls = [...html.matchAll(/<(?:input|select)\b[^>]*\bid="([^"]+)"/g)].map((match) => match[1]);
    expect(controls).toEqual(['name', 'to', 'text']);
    for (const id of controls) expect(html).toContain(`<label for="${id}"`);
  });

  it('serves a script that uses the package bundle and never writes peer data as markup', async () => {
    const res = await fetch(`${server.httpUrl}${DEMO_PATHS.script}`);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const script = await res.text();
    expect(script).toMatch(/^import \{ SecureSession \} from '\/lib\/secure\.js';/);
    expect(script).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
    expect((await fetch(`${server.httpUrl}${DEMO_PATHS.style}`)).headers.get('content-type')).toBe(
      'text/css; charset=utf-8',
    );
  });

  it('serves dist/browser/secure.js at /lib/secure.js', async () => {
    if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run 'npm run build' first`);
    const res = await fetch(`${server.httpUrl}${DEMO_PATHS.bundle}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await res.text()).toBe(await readFile(BUNDLE, 'utf8'));
  });

  it('keeps POST / as the WSS handshake', async () => {
    const res = await fetch(server.httpUrl, {
      method: 'POST',
      body: JSON.stringify({ jsonrpc: '2.0', method: 'WSS_Handshake', params: { user_token: 'demo' }, id: 1 }),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { result: { message: string } }).result.message).toBe('accept');
  });
});

/** The page's peer book (GET /demo/peers.js), as the browser gets it. */
interface PeerBook {
  reconnecting(): void;
  nameOf(privateId: string): string | undefined;
  joined(privateId: string, name: string): boolean;
  left(privateId: string, outage: boolean): string | undefined;
  renamed(oldPrivateId: string, newPrivateId: string): void;
  keyed(privateId: string, name: string, fingerprint: string | null, previousFingerprint?: string | null): string;
  hasChanged(privateId: string): boolean;
  seen(privateId: string): void;
}

describe('the peer book the page keeps', () => {
  let newBook: () => PeerBook;
  let maxDeparted = 0;

  beforeAll(async () => {
    const res = await fetch(`${server.httpUrl}${DEMO_PATHS.peers}`);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const source = Buffer.from(await res.text()).toString('base64');
    const module = (await import(/* @vite-ignore */ `data:text/javascript;base64,${source}`)) as {
      PeerBook: new () => PeerBook;
      MAX_DEPARTED: number;
    };
    newBook = () => new module.PeerBook();
    maxDeparted = module.MAX_DEPARTED;
  });

  it('says "you reconnected" when a peer lost in our outage comes back under another ID and number', () => {
    const book = newBook();
    expect(book.joined('b1', 'Bob')).toBe(false);
    expect(book.keyed('b1', 'Bob', '11111')).toBe('');
    book.reconnecting();
    expect(book.left('b1', true)).toBe('Bob');
    expect(book.nameOf('b1')).toBeUndefined();
    expect(book.joined('b2', 'Bob')).toBe(true);
    expect(book.keyed('b2', 'Bob', '22222')).toBe('you reconnected');
    expect(book.hasChanged('b2')).toBe(true);
    book.renamed('b2', 'bob');
    expect([book.nameOf('bob'), book.hasChanged('bob'), book.hasChanged('b2')]).toEqual(['Bob', true, false]);
    book.seen('bob');
    expect(book.hasChanged('bob')).toBe(false);
  });

  it("names the peer's own rejoin and a new key under the same ID; the same number changes nothing", () => {
    const book = newBook();
    book.keyed('b1', 'Bob', '11111');
    expect(book.left('b1', false)).toBe('Bob');
    expect(book.joined('b2', 'Bob')).toBe(false);
    expect(book.keyed('b2', 'Bob', '22222')).toBe('Bob rejoined');
    expect(book.keyed('b2', 'Bob', '33333', '22222')).toBe('new key');
    expect(book.keyed('b2', 'Bob', '33333', '33333')).toBe('');
    expect(book.keyed('b2', 'Bob', null, '33333')).toBe('');
  });

  it('does not compare two people who share a name while both are listed', () => {
    const book = newBook();
    book.keyed('b1', 'Bob', '11111');
    book.joined('b2', 'Bob');
    expect(book.keyed('b2', 'Bob', '22222')).toBe('');
    expect(book.left('nobody', false)).toBeUndefined();
  });

  it(`remembers at most MAX_DEPARTED departed peers, forgetting the oldest`, () => {
    const book = newBook();
    expect(maxDeparted).toBe(100);
    for (let i = 0; i <= maxDeparted; i++) {
      book.keyed(`p${i}`, `peer ${i}`, `${i}`);
      book.left(`p${i}`, false);
    }
    expect(book.keyed('q0', 'peer 0', 'new')).toBe('');
    expect(book.keyed('q1', 'peer 1', 'new')).toBe('peer 1 rejoined');
  });
});

describe('the demo option', () => {
  it('is on by default; demo: false serves nothing but the handshake on /', async () => {
    const plain = await createServer({ port: 0, host: '127.0.0.1', demo: false });
    try {
      const page = await fetch(`${plain.httpUrl}/`);
      expect(page.status).toBe(405);
      expect(page.headers.get('allow')).toBe('POST, OPTIONS');
      expect((await fetch(`${plain.httpUrl}${DEMO_PATHS.bundle}`)).status).toBe(404);
    } finally {
      await plain.close();
    }
  });

  it('must be a boolean', async () => {
    await expect(createServer({ port: 0, demo: 'yes' as unknown as boolean })).rejects.toThrow(InvalidArgumentError);
    await expect(createServer({ port: 0, demo: 'yes' as unknown as boolean })).rejects.toThrow(
      /'demo' must be true or false/,
    );
  });

  it('is announced by the CLI, and --no-demo turns it off', async () => {
    const run = async (argv: string[]) => {
      const out: string[] = [];
      let status = 0;
      const io: CliIo = {
        out: (line) => void out.push(line),
        err: (line) => void out.push(line),
        logger: silentLogger,
        waitForStop: async (running) => {
          status = (await fetch(`${running.httpUrl}/`)).status;
        },
      };
      expect(await main(argv, io)).toBe(0);
      return { out, status };
    };
    const withDemo = await run(['serve', '--port', '0']);
    expect(withDemo.status).toBe(200);
    expect(withDemo.out.find((line) => line.startsWith('Chat demo: '))).toMatch(
      /^Chat demo: http:\/\/127\.0\.0\.1:\d+\/ /,
    );
    const without = await run(['serve', '--port', '0', '--no-demo']);
    expect(without.status).toBe(405);
    expect(without.out.some((line) => line.startsWith('Chat demo'))).toBe(false);
  });
});

describe('findBrowserBundles', () => {
  let dir = '';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wss-demo-'));
    await mkdir(join(dir, 'pkg/dist/browser'), { recursive: true });
    await writeFile(join(dir, 'pkg/dist/browser/secure.js'), 'export {};');
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const from = (path: string): string => pathToFileURL(join(dir, path)).href;

  it('finds dist/browser from dist/esm, dist/cjs, a chunk folder and the sources', () => {
    const expected = join(dir, 'pkg/dist/browser');
    for (const module of [
      'pkg/dist/esm/server.js',
      'pkg/dist/cjs/server.cjs',
      'pkg/dist/esm/chunks/x.js',
      'pkg/src/server/demo/assets.ts',
    ]) {
      expect(findBrowserBundles('secure.js', from(module)), module).toBe(expected);
    }
  });

  it('finds nothing when the package was not built', () => {
    expect(findBrowserBundles('index.js', from('pkg/dist/esm/server.js'))).toBeUndefined();
    expect(
      findBrowserBundles('secure.js', pathToFileURL(join(dirname(dir), 'elsewhere/a/b/c/d/e/f/g.js')).href),
    ).toBeUndefined();
  });
});
