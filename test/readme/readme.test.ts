/**
 * Every fenced code block of README.md, run against the built package, or listed with the reason
 * it cannot run here. A block's info string says what it is:
 *
 * - `js`: an ES module, run by Node as a file in a consumer folder whose node_modules/wss-sessions
 *   is this package (dist/ as built, with its runtime dependencies beside it). Each example starts
 *   its own reference server on a free port. It must print exactly the lines its `// → …` comments
 *   announce, in order (or check itself with node:assert).
 * - `sh`: the `wss-sessions serve` command line, run through `npx` with `--port 0` added (no fixed
 *   ports in tests) until it prints its addresses, then stopped with SIGTERM, which must drain it.
 * - `haproxy`, `nginx` (the latter in docs/server.md, where the README points): TLS proxy
 *   configurations, run in front of that server with their public
 *   address, certificate paths and backend port replaced, each with clients going through it. A
 *   proxy that is not installed here is listed as not runnable, with the reason.
 * - `sh cluster`: `npm run cluster`, run from the repository (it is a script of the repository, not of
 *   the package) until it prints the address to open; /healthz there must show a three-node
 *   cluster and two clients that HAProxy spreads over the nodes must reach each other. Then the whole
 *   process group is stopped. Needs redis-server and haproxy, as CI installs them.
 * - `sh registry`: not runnable here (see NOT_RUNNABLE).
 *
 * Any other info string fails the test, so no block is silently skipped.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WSSClient } from '../../src/index.js';
import { USAGE } from '../../src/server/cli.js';
import { serverDefaults } from '../../src/server/options.js';
import { announcedOutput, anchors, type CodeBlock, codeBlocks, relativeLinks } from './markdown.js';
import { findBinary, HAPROXY, NGINX, type ProxyKind, selfSignedCertificate } from './proxies.js';
import { freePort } from '../../scripts/cluster/processes.mjs';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const BLOCKS = codeBlocks(README);
/** docs/server.md holds the nginx configuration the README points to; it is run as the README's are. */
const SERVER_DOC_BLOCKS = codeBlocks(readFileSync(join(ROOT, 'docs/server.md'), 'utf8'));
const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  dependencies?: Record<string, string>;
};

/** Blocks that cannot run in a test, by info string, and why. */
const NOT_RUNNABLE: Record<string, string> = {
  'sh registry':
    'installs wss-sessions from the npm registry, which this test cannot reach for the version being tested; ' +
    'test/package/consumers.test.ts installs the packed tarball instead',
};
const PROXIES: readonly ProxyKind[] = [HAPROXY, NGINX];
const RUNNABLE = new Set(['js', 'sh', 'sh cluster', ...PROXIES.map((p) => p.info)]);

const of = (info: string): CodeBlock[] => BLOCKS.filter((b) => b.info === info);
const named = (b: CodeBlock): string => `line ${b.line} (${b.info})`;

let consumer = '';

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist/esm/node/index.js'))) throw new Error("dist/ is missing: run 'npm run build' first");
  consumer = await mkdtemp(join(tmpdir(), 'wss-readme-'));
  await mkdir(join(consumer, 'node_modules/.bin'), { recursive: true });
  await symlink(ROOT, join(consumer, 'node_modules/wss-sessions'), 'dir');
  // What `npm install wss-sessions` puts beside it (the examples import jose, ws comes along).
  for (const dep of Object.keys(PACKAGE.dependencies ?? {})) {
    await mkdir(dirname(join(consumer, 'node_modules', dep)), { recursive: true });
    await symlink(join(ROOT, 'node_modules', dep), join(consumer, 'node_modules', dep), 'dir');
  }
  // npm would link the bin and mark dist/esm/cli.js executable; a shim does the same without touching dist/.
  const bin = join(consumer, 'node_modules/.bin/wss-sessions');
  await writeFile(bin, '#!/bin/sh\nexec node "$(dirname "$0")/../wss-sessions/dist/esm/cli.js" "$@"\n');
  await chmod(bin, 0o755);
  await writeFile(join(consumer, 'package.json'), JSON.stringify({ name: 'readme', private: true, type: 'module' }));
  await copyFile(join(import.meta.dirname, 'through-proxy.mjs'), join(consumer, 'through-proxy.mjs'));
});

afterAll(async () => {
  if (consumer) await rm(consumer, { recursive: true, force: true });
});

describe('README.md server reference', () => {
  const section = README.slice(README.indexOf('## Run the server'), README.indexOf('### Behind a TLS proxy'));

  it('documents every createServer option', () => {
    const options = [...Object.keys(serverDefaults), 'signal', 'cluster'];
    expect(options.filter((name) => !section.includes(`\`${name}\``))).toEqual([]);
  });

  it('documents every CLI flag and endpoint', () => {
    const flags = [...new Set(USAGE.match(/--[a-z][a-z-]+/g))].filter((flag) => flag !== '--help');
    expect(flags.length).toBeGreaterThan(10);
    expect(flags.filter((flag) => !section.includes(flag))).toEqual([]);
    for (const endpoint of ['`/`', '`/stream`', '`GET /healthz`', '`GET /metrics`'])
      expect(section).toContain(endpoint);
  });
});

describe('README.md bundle size', () => {
  it('names every budget scripts/size.mjs enforces', () => {
    const budgets = [...readFileSync(join(ROOT, 'scripts/size.mjs'), 'utf8').matchAll(/budget: ([\d.]+) \* KB/g)];
    const section = README.slice(README.indexOf('## Bundle size'), README.indexOf('## Where next'));
    expect(budgets.length).toBeGreaterThan(0);
    for (const [, kb] of budgets) expect(section).toContain(` ${kb} KB`);
  });
});

describe('README.md code blocks', () => {
  it('are each runnable here or listed with the reason they are not', () => {
    const unknown = BLOCKS.filter((b) => !RUNNABLE.has(b.info) && !(b.info in NOT_RUNNABLE)).map(named);
    expect(unknown, 'blocks whose info string this test does not know').toEqual([]);
    const listed = BLOCKS.filter((b) => b.info in NOT_RUNNABLE).map((b) => `${named(b)}: ${NOT_RUNNABLE[b.info]}`);
    for (const line of listed) console.info(`README block not run: ${line}`);
    expect(BLOCKS.length).toBeGreaterThan(listed.length);
  });

  it('are in the counts the runners below expect: JavaScript examples and one server command', () => {
    expect(of('js').length).toBeGreaterThan(0);
    expect(of('sh').map((b) => b.code.replace(/\\\n\s*/g, ''))).toEqual([
      expect.stringMatching(/^npx wss-sessions serve [^'"`$;&|<>]*$/),
    ]);
  });
});

describe.each(of('js'))('README example at $line', (block) => {
  it('runs on its own against the built package and prints what its comments announce', async () => {
    const announced = announcedOutput(block.code);
    const selfChecking = /from 'node:assert/.test(block.code);
    expect(announced.length > 0 || selfChecking, 'an example must announce its output or assert').toBe(true);
    const file = join(consumer, `example-${block.line}.mjs`);
    await writeFile(file, block.code);
    const { stdout } = await run(process.execPath, [file], { cwd: consumer, timeout: 30_000 }).catch(
      (error: Error & { stdout?: string; stderr?: string }) => {
        throw new Error(`README example at line ${block.line} failed:\n${error.stderr || error.message}`);
      },
    );
    if (announced.length > 0) expect(stdout.trimEnd().split('\n')).toEqual(announced);
  }, 40_000); // longer than the run's own limit, so a hanging example is killed and reported, not abandoned
});

/** The Markdown that ships with the package (package.json "files"), whose links readers follow. */
const SHIPPED_MARKDOWN = [
  'README.md',
  'CHANGELOG.md',
  'legacy-compat/README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

describe('links in the shipped Markdown', () => {
  it.each(SHIPPED_MARKDOWN)('%s: each relative link leads to a file and, with an anchor, to its heading', (doc) => {
    const broken: string[] = [];
    const text = readFileSync(join(ROOT, doc), 'utf8');
    for (const href of relativeLinks(text)) {
      const [path = '', anchor] = href.split('#');
      const target = path ? join(ROOT, dirname(doc), decodeURI(path)) : join(ROOT, doc);
      if (!existsSync(target)) broken.push(`${href}: no such file`);
      else if (anchor && !anchors(readFileSync(target, 'utf8')).has(anchor)) {
        broken.push(`${href}: no heading with that anchor in ${relative(ROOT, target)}`);
      }
    }
    expect(broken).toEqual([]);
  });
});

/** Output of a process so far, and a way to wait for a line. */
class Output {
  text = '';
  readonly #waiters = new Set<() => void>();

  constructor(child: ChildProcess) {
    const take = (chunk: Buffer): void => {
      this.text += chunk.toString();
      for (const wake of this.#waiters) wake();
    };
    child.stdout?.on('data', take);
    child.stderr?.on('data', take);
  }

  /** Resolves with the first match of `pattern` in the output, once it appears. */
  line(pattern: RegExp): Promise<RegExpExecArray> {
    return new Promise((resolve) => {
      const check = (): void => {
        const match = pattern.exec(this.text);
        if (!match) return;
        this.#waiters.delete(check);
        resolve(match);
      };
      this.#waiters.add(check);
      check();
    });
  }
}

/** The HTTP status of GET `url` over TLS trusting `ca`, or the error code when it could not connect. */
function httpsStatus(url: string, ca: string): Promise<number | string> {
  return new Promise((resolve) => {
    const req = request(url, { ca }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    req.end();
  });
}

/**
 * Waits until the proxy answers `url` with 200: it starts listening, and its health check sees
 * the backend, some time after its process started. Asks again after each answer that says not
 * yet (refused, 503), a few times a second, for up to `ms`.
 */
async function untilHealthy(url: string, ca: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  let status: number | string = 'no answer';
  while (Date.now() < deadline) {
    status = await httpsStatus(url, ca);
    if (status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`The proxy never answered ${url} with 200 within ${ms} ms (last: ${status})`);
}

function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('close', () => resolve());
    child.kill(signal);
  });
}

/** What the clients saw through a proxy (through-proxy.mjs). */
interface ThroughProxy {
  direct: unknown;
  health: { status: string; sessions: number };
  allowedOrigin: string;
  otherOrigin: string;
}

/** Proxies started and not yet stopped: a test that fails midway leaves its proxy to afterAll. */
const proxies = new Set<ChildProcess>();

/**
 * Starts `proxy` with the README's configuration in front of the server at `backendPort`, sends two
 * clients through it, stops it; resolves with what the clients saw and what the proxy printed.
 */
async function throughProxy(
  proxy: ProxyKind,
  block: CodeBlock,
  binary: string,
  backendPort: number,
  certificate: { cert: string; key: string },
): Promise<{ seen: ThroughProxy; log: string }> {
  const dir = await mkdtemp(join(consumer, `${proxy.info}-`));
  const setup = { dir, port: await freePort(), backendPort, ...certificate };
  const child = spawn(binary, await proxy.prepare(block.code, setup, binary), { cwd: dir });
  proxies.add(child);
  const log = new Output(child);
  try {
    await untilHealthy(`https://localhost:${setup.port}/healthz`, readFileSync(certificate.cert, 'utf8'));
    const { stdout } = await run(process.execPath, ['through-proxy.mjs', `localhost:${setup.port}`], {
      cwd: consumer,
      timeout: 20_000,
      env: { ...process.env, NODE_EXTRA_CA_CERTS: certificate.cert },
    });
    return { seen: JSON.parse(stdout) as ThroughProxy, log: log.text };
  } finally {
    await stop(child);
    proxies.delete(child);
  }
}

describe('the server command, behind each TLS proxy of the README and docs/server.md', () => {
  let serve: ChildProcess;
  let output: Output;
  let httpUrl = '';
  let certificate: { cert: string; key: string };

  beforeAll(async () => {
    const [block] = of('sh');
    const command = (block?.code ?? '').replace(/\\\n\s*/g, '').trim();
    serve = spawn('sh', ['-c', `exec ${command} --port 0`], {
      cwd: consumer,
      detached: true, // its own process group: SIGTERM goes to npx and the server it started, as a supervisor's would
      env: { ...process.env, npm_config_offline: 'true', npm_config_update_notifier: 'false' },
    });
    output = new Output(serve);
    [, httpUrl = ''] = await output.line(/^HTTP:\s+(http:\/\/\S+)$/m);
    certificate = await selfSignedCertificate(consumer);
  }, 30_000);

  afterAll(async () => {
    await Promise.all([...proxies].map((child) => stop(child, 'SIGKILL')));
    // Whatever of the group is left when a test failed midway; after a drained stop, nothing is.
    if (!serve?.pid) return;
    try {
      process.kill(-serve.pid, 'SIGKILL');
    } catch {
      // The group is gone.
    }
  });

  it('starts, prints its addresses and answers GET /healthz', async () => {
    expect(output.text).toMatch(/^WebSocket: ws:\/\/127\.0\.0\.1:\d+$/m);
    const health = (await (await fetch(`${httpUrl}/healthz`)).json()) as { status: string };
    expect(health.status).toBe('ok');
  });

  for (const proxy of PROXIES) {
    const [block, file] = of(proxy.info).length
      ? [of(proxy.info)[0], 'README']
      : [SERVER_DOC_BLOCKS.find((b) => b.info === proxy.info), 'docs/server.md'];
    const binary = findBinary(proxy.binary);
    const why = binary
      ? ''
      : ` — not runnable here: ${proxy.binary} is not installed (apt-get install ${proxy.binary})`;
    it.skipIf(!binary || !block)(
      `${proxy.info} (${file} line ${block?.line}) terminates TLS in front of it${why}`,
      async () => {
        if (!block || !binary) return;
        const { seen, log } = await throughProxy(proxy, block, binary, Number(new URL(httpUrl).port), certificate);
        expect(seen).toEqual({
          direct: { type: 'direct', fromB: true, data: { text: 'through TLS' } },
          health: { status: 'ok', sessions: seen.health.sessions },
          allowedOrigin: 'open',
          otherOrigin: 'Unexpected server response: 403',
        });
        // Both clients were connected when /healthz answered (sessions of an earlier proxy's clients may still be closing).
        expect(seen.health.sessions).toBeGreaterThanOrEqual(2);
        expect(log).not.toMatch(/\[ALERT\]|\[emerg\]/);
      },
      30_000,
    );
  }

  it('drains and stops on SIGTERM', async () => {
    const closed = new Promise((resolve) => serve.once('close', resolve));
    process.kill(-(serve.pid ?? 0), 'SIGTERM');
    await closed;
    expect(output.text).toMatch(/^Stopped\.$/m);
  }, 20_000);
});

describe('the cluster command of the README', () => {
  const [block] = of('sh cluster');
  const missing = ['redis-server', 'haproxy'].filter((name) => !findBinary(name));
  const why = missing.length ? ` — not runnable here: ${missing.join(' and ')} not installed` : '';
  let cluster: ChildProcess | undefined;

  afterAll(async () => {
    if (!cluster?.pid || cluster.exitCode !== null) return;
    const closed = new Promise((resolve) => cluster?.once('close', resolve));
    process.kill(-cluster.pid, 'SIGTERM');
    await closed;
  });

  it.skipIf(missing.length > 0 || !block)(
    `starts Redis, three nodes and HAProxy, and peers on different nodes reach each other through it${why}`,
    async () => {
      cluster = spawn('sh', ['-c', `exec ${block?.code.trim()}`], { cwd: ROOT, detached: true });
      const output = new Output(cluster);
      const [, address = ''] = await output.line(/^Open (http:\/\/\S+)\/ in two browser windows/m);
      const health = (await (await fetch(`${address}/healthz`)).json()) as { cluster?: { nodes?: unknown } };
      expect(health.cluster?.nodes).toBe(3);
      const url = address.replace(/^http/, 'ws');
      const [a, b] = [new WSSClient({ url }), new WSSClient({ url })];
      try {
        await a.connect();
        const { privateId } = await b.connect();
        const got = new Promise((resolve) => b.once('message', ({ data }) => resolve(data)));
        await a.send(privateId, { text: 'across the cluster' });
        expect(await got).toEqual({ text: 'across the cluster' });
      } finally {
        await Promise.all([a.disconnect(), b.disconnect()]);
      }
    },
    60_000,
  );
});
