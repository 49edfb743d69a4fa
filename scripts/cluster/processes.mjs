// Child processes of a local cluster: redis-server, reference-server nodes and HAProxy, each on
// a free loopback port. Every start is awaited on what the process prints (never on a sleep),
// every process runs in a process group of its own, every one still running is killed when this
// process exits, and a watchdog kills its group should this process die without exiting (killed
// by a signal), so a failed test or a crashed script leaves nothing behind.
// Used by `npm run cluster` (scripts/cluster.mjs), the cluster tests and bench/cluster.mjs.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
export const REDIS_SERVER = process.env.REDIS_SERVER_PATH ?? '/usr/bin/redis-server';
export const HAPROXY = process.env.HAPROXY_PATH ?? '/usr/sbin/haproxy';
export const HAPROXY_CONFIG = join(ROOT, 'examples/cluster/haproxy.cfg');
/** The node entry: createServer() from dist/ with JSON options, one JSON line when it listens. */
export const NODE_ENTRY = join(ROOT, 'scripts/cluster/node.mjs');

/** Lines of output each process keeps for error messages. */
const KEPT_LINES = 200;
/** How long a start may take before it is reported as failed. */
const START_TIMEOUT_MS = 15_000;
/** How long a stopped process gets to exit before it is killed. */
const STOP_GRACE_MS = 10_000;

const running = new Set();
process.once('exit', () => {
  for (const child of running) child.killGroup();
});

/** A free TCP port on `host` (the kernel's pick for port 0, released at once). */
export function freePort(host = '127.0.0.1') {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, host, () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });
}

/**
 * One child process in a process group of its own, its output kept line by line
 * (the last {@link KEPT_LINES}) and matched against whatever a caller waits for.
 */
export class ManagedProcess {
  #child;
  #lines = [];
  #waiters = new Set();
  #partial = { stdout: '', stderr: '' };
  #watchdog;
  /** Resolves with `{ code, signal }` once the process has exited. */
  exited;
  exitStatus = null;

  /** @param name shown in error messages, e.g. 'redis-server :6379'. */
  constructor(name, command, args, { env, cwd = ROOT } = {}) {
    this.name = name;
    this.#child = spawn(command, args, {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    running.add(this);
    this.pid = this.#child.pid;
    this.#watchdog = watchdog(this.pid);
    for (const stream of ['stdout', 'stderr']) {
      this.#child[stream].setEncoding('utf8');
      this.#child[stream].on('data', (text) => this.#onOutput(stream, text));
    }
    this.exited = new Promise((done) => {
      this.#child.once('error', (error) => {
        this.#keep(`[spawn error] ${error.message}`);
        this.#finish({ code: null, signal: null, error }, done);
      });
      this.#child.once('exit', (code, signal) => this.#finish({ code, signal }, done));
    });
  }

  /** The output lines kept so far (stdout and stderr interleaved). */
  get output() {
    return [...this.#lines];
  }

  get running() {
    return this.exitStatus === null;
  }

  /**
   * Resolves with the first line (kept or future) that `pattern` matches, as its match array.
   * Rejects when the process exits first or after `timeoutMs`, with the process's last lines.
   */
  waitForLine(pattern, timeoutMs = START_TIMEOUT_MS) {
    for (const line of this.#lines) {
      const match = pattern.exec(line);
      if (match) return Promise.resolve(match);
    }
    return new Promise((done, fail) => {
      const waiter = {
        pattern,
        done: (match) => {
          clearTimeout(timer);
          this.#waiters.delete(waiter);
          done(match);
        },
        fail: (why) => {
          clearTimeout(timer);
          this.#waiters.delete(waiter);
          fail(new Error(`${this.name}: ${why} while waiting for ${pattern}\n${this.#tail()}`));
        },
      };
      const timer = setTimeout(() => waiter.fail(`no such line within ${timeoutMs} ms`), timeoutMs);
      this.#waiters.add(waiter);
      if (!this.running) waiter.fail(`exited (${describeExit(this.exitStatus)})`);
    });
  }

  /** Sends `signal` and resolves once the process exited; kills its group after `graceMs`. */
  async stop(signal = 'SIGTERM', graceMs = STOP_GRACE_MS) {
    if (!this.running) return this.exitStatus;
    this.#signal(signal);
    const timer = setTimeout(() => this.killGroup(), graceMs);
    const status = await this.exited;
    clearTimeout(timer);
    return status;
  }

  /** SIGKILL to the process (not its group: a test may want its children to notice). */
  kill() {
    return this.stop('SIGKILL');
  }

  /** SIGKILL to the whole process group, synchronously (also used at exit). */
  killGroup() {
    if (this.running) killGroupOf(this.pid);
  }

  #signal(signal) {
    try {
      this.#child.kill(signal);
    } catch {
      // Exited in between.
    }
  }

  #onOutput(stream, text) {
    const lines = (this.#partial[stream] + text).split('\n');
    this.#partial[stream] = lines.pop() ?? '';
    for (const line of lines) this.#keep(line);
  }

  #keep(line) {
    this.#lines.push(line);
    if (this.#lines.length > KEPT_LINES) this.#lines.shift();
    for (const waiter of [...this.#waiters]) {
      const match = waiter.pattern.exec(line);
      if (match) waiter.done(match);
    }
  }

  #finish(status, done) {
    if (this.exitStatus !== null) return;
    for (const stream of ['stdout', 'stderr']) if (this.#partial[stream]) this.#keep(this.#partial[stream]);
    this.exitStatus = status;
    running.delete(this);
    // The group may still hold children of the process (HAProxy's worker): end them too.
    killGroupOf(this.pid);
    killGroupOf(this.#watchdog.pid);
    for (const waiter of [...this.#waiters]) waiter.fail(`exited (${describeExit(status)})`);
    done(status);
  }

  #tail() {
    return this.#lines
      .slice(-30)
      .map((line) => `  | ${line}`)
      .join('\n');
  }
}

/**
 * A shell that waits for its stdin (a pipe from this process) to close, then kills process group
 * `pgid`: the pipe closes when this process ends, however it ends.
 */
function watchdog(pgid) {
  const dog = spawn('/bin/sh', ['-c', `cat >/dev/null; kill -9 -${pgid} 2>/dev/null`], {
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: true,
  });
  dog.stdin.on('error', () => {});
  dog.on('error', () => {});
  dog.unref();
  dog.stdin.unref();
  return dog;
}

function killGroupOf(pgid) {
  if (pgid === undefined) return;
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // Gone already.
  }
}

function describeExit(status) {
  if (!status) return 'still running';
  if (status.error) return status.error.message;
  return status.signal ? `signal ${status.signal}` : `code ${status.code}`;
}

/**
 * A redis-server of its own on 127.0.0.1 with persistence off (`--save "" --appendonly no`),
 * so a restart starts empty, as after a crash of a cache-only Redis.
 */
export class RedisServer {
  #process = null;
  #dir;

  constructor(port) {
    this.port = port;
    this.#dir = mkdtempSync(join(tmpdir(), 'wss-redis-'));
  }

  /** Starts on a free port (another one when the pick was taken in between). */
  static async start() {
    let lastError;
    for (let attempt = 0; attempt < 5; attempt++) {
      const redis = new RedisServer(await freePort());
      try {
        await redis.#launch();
        return redis;
      } catch (error) {
        lastError = error;
        redis.#cleanup();
      }
    }
    throw lastError;
  }

  get url() {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running() {
    return this.#process?.running ?? false;
  }

  /** Shuts Redis down (SIGTERM); its data is gone. */
  async stop() {
    await this.#process?.stop('SIGTERM');
  }

  /** Starts Redis again on the same port, empty. */
  async restart() {
    await this.stop();
    await this.#launch();
  }

  /** Stops Redis and removes its directory. */
  async close() {
    await this.stop();
    this.#cleanup();
  }

  async #launch() {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
    args.push('--protected-mode', 'no', '--daemonize', 'no', '--loglevel', 'notice', '--dir', this.#dir);
    this.#process = new ManagedProcess(`redis-server :${this.port}`, REDIS_SERVER, args);
    await this.#process.waitForLine(/Ready to accept connections/);
  }

  #cleanup() {
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

/**
 * One reference-server node: `scripts/cluster/node.mjs` with server options as JSON (default),
 * or the `wss-sessions serve` CLI with arguments (`cli`). Resolves once it listens.
 */
export class ServerNode {
  #process;

  constructor(process, address) {
    this.#process = process;
    this.url = address.url;
    this.httpUrl = address.httpUrl;
    this.port = address.port;
  }

  /** `createServer({ port: 0, host: '127.0.0.1', ...options })` in a process of its own. */
  static async start(options = {}, { name = 'node' } = {}) {
    const child = new ManagedProcess(name, process.execPath, [NODE_ENTRY, JSON.stringify(options)]);
    const [, json] = await child.waitForLine(/^listening (\{.*\})$/);
    return new ServerNode(child, JSON.parse(json));
  }

  /** `wss-sessions serve --port 0 ...args` (the built CLI) in a process of its own. */
  static async cli(args = [], { name = 'node' } = {}) {
    const cli = join(ROOT, 'dist/esm/cli.js');
    const child = new ManagedProcess(name, process.execPath, [cli, 'serve', '--port', '0', ...args]);
    const [, url] = await child.waitForLine(/^WebSocket: (ws:\/\/\S+)$/);
    const port = Number(new URL(url).port);
    return new ServerNode(child, { url, httpUrl: url.replace(/^ws/, 'http'), port });
  }

  get process() {
    return this.#process;
  }

  get running() {
    return this.#process.running;
  }

  /** SIGTERM: the node drains and exits. */
  stop() {
    return this.#process.stop('SIGTERM');
  }

  /** SIGKILL: the node dies without a word to anyone. */
  kill() {
    return this.#process.kill();
  }
}

/** HAProxy (master-worker mode) with examples/cluster/haproxy.cfg in front of three nodes. */
export class Haproxy {
  #process;

  constructor(process, port) {
    this.#process = process;
    this.port = port;
    this.url = `ws://127.0.0.1:${port}`;
    this.httpUrl = `http://127.0.0.1:${port}`;
  }

  /** @param nodes exactly three `{ port }` (the configuration names three servers). */
  static async start(nodes, { port } = {}) {
    if (nodes.length !== 3) throw new Error(`Haproxy.start(): the configuration has 3 servers, got ${nodes.length}`);
    const listen = port ?? (await freePort());
    const env = { WSS_PROXY_ADDRESS: `127.0.0.1:${listen}` };
    nodes.forEach((node, i) => {
      env[`WSS_NODE${i + 1}`] = `127.0.0.1:${node.port}`;
    });
    const child = new ManagedProcess(`haproxy :${listen}`, HAPROXY, ['-W', '-db', '-f', HAPROXY_CONFIG], { env });
    await child.waitForLine(/Loading success/);
    return new Haproxy(child, listen);
  }

  get process() {
    return this.#process;
  }

  stop() {
    return this.#process.stop('SIGTERM');
  }
}
