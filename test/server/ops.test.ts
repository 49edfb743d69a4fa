import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.js';
import { createServer } from '../../src/server/index.js';
import { RawClient, serverFixture } from './helpers.js';

const fx = serverFixture();
afterEach(() => fx.cleanup());

const CLI_PATH = fileURLToPath(new URL('../../src/server/cli.ts', import.meta.url));

/** The value of one sample line of Prometheus text, or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('GET /healthz and GET /metrics', () => {
  it('report status, sessions and uptime, and count real traffic on a registry of their own', async () => {
    const server = await fx.start();
    const other = await fx.start();
    const a = await fx.joined(server);
    const b = await fx.joined(server);
    await a.until((m) => m.result?.connect === b.privateId);
    await a.request('WSS_Send', a.tokens({ type: 'broadcast', data: 'hi' }));
    await b.nextMessage();

    const health = await fetch(`${server.httpUrl}/healthz`);
    expect(health.status).toBe(200);
    expect(health.headers.get('content-type')).toBe('application/json');
    const body = await health.json();
    expect(body).toEqual({ status: 'ok', sessions: 2, uptime: expect.any(Number) });

    const res = await fetch(`${server.httpUrl}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(sample(text, 'wss_sessions_sessions{endpoint="wss"}')).toBe(2);
    expect(sample(text, 'wss_sessions_sockets')).toBe(2);
    expect(sample(text, 'wss_sessions_handshakes_total')).toBe(2);
    expect(sample(text, 'wss_sessions_frames_received_total{endpoint="wss"}')).toBe(5);
    expect(sample(text, 'wss_sessions_frames_sent_total{endpoint="wss"}')).toBe(7);
    const writes = sample(text, 'wss_sessions_socket_writes_total{endpoint="wss"}');
    expect(writes).toBeGreaterThan(0);
    expect(writes).toBeLessThanOrEqual(7);
    expect(sample(text, 'wss_sessions_received_bytes_total{endpoint="wss"}')).toBeGreaterThan(500);
    expect(sample(text, 'wss_sessions_sent_bytes_total{endpoint="wss"}')).toBeGreaterThan(500);
    expect(sample(text, 'wss_sessions_request_duration_seconds_count{method="WSS_Send",outcome="ok"}')).toBe(1);
    expect(sample(text, 'wss_sessions_request_duration_seconds_count{method="WSS_Connect",outcome="ok"}')).toBe(2);
    expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);

    const untouched = await (await fetch(`${other.httpUrl}/metrics`)).text();
    expect(sample(untouched, 'wss_sessions_handshakes_total')).toBe(0);
    const off = await fx.start({ metrics: false });
    expect((await fetch(`${off.httpUrl}/metrics`)).status).toBe(404);
    expect((await fetch(`${off.httpUrl}/healthz`)).status).toBe(200);
  });
});

describe('close({ drainMs })', () => {
  it('closes every session with 1001 "going away", cuts clients that do not answer, and stops accepting', async () => {
    const server = await createServer({ port: 0, drainMs: 60_000 });
    const polite = await RawClient.open(server.url);
    await polite.join();
    const deaf = await RawClient.open(server.url);
    await deaf.join();
    deaf.ws.pause();
    await server.close({ drainMs: 200 });
    expect(await polite.closed).toEqual({ code: 1001, reason: 'going away' });
    deaf.ws.resume();
    expect((await deaf.closed).code).not.toBe(1000);
    await expect(RawClient.open(server.url)).rejects.toThrow();
  });

  it('refuses a bad drainMs', async () => {
    const server = await fx.start();
    expect(() => server.close({ drainMs: 1.5 })).toThrow(InvalidArgumentError);
  });
});

describe('the CLI as a program', () => {
  it('logs one line per connect and disconnect at --log info, and drains on SIGTERM within --drain-ms', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', CLI_PATH, 'serve', '--port', '0', '--log', 'info', '--drain-ms', '300', '--no-demo'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const lines: string[] = [];
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    createInterface({ input: child.stderr }).on('line', (line) => lines.push(line));
    const stdout = createInterface({ input: child.stdout });
    try {
      let url = '';
      for await (const line of stdout) {
        lines.push(line);
        if (line.startsWith('WebSocket: ')) {
          url = line.slice('WebSocket: '.length);
          break;
        }
      }
      stdout.on('line', (line) => lines.push(line));
      const a = await RawClient.open(url);
      await a.join();
      const b = await RawClient.open(url);
      await b.join();
      await b.close();
      await a.until((m) => m.result?.disconnect === b.privateId);
      const deaf = await RawClient.open(url);
      await deaf.join();
      deaf.ws.pause();
      child.kill('SIGTERM');
      expect(await a.closed).toEqual({ code: 1001, reason: 'going away' });
      expect(await exited).toBe(0);
      deaf.ws.resume();
      await deaf.closed;
      const short = (pid: string) => pid.slice(0, 12);
      expect(lines.filter((l) => l.includes(`${short(b.privateId)}… connected from 127.0.0.1:`))).toHaveLength(1);
      expect(lines.filter((l) => l.includes(`${short(b.privateId)}… disconnected (1005;`))).toHaveLength(1);
      expect(lines.filter((l) => l.includes(`${short(a.privateId)}… disconnected (1001;`))).toHaveLength(1);
      expect(lines.at(-1)).toBe('Stopped.');
    } finally {
      child.kill('SIGKILL');
    }
  });
});
