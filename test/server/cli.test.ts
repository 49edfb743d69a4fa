import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { main, USAGE, type CliIo } from '../../src/server/cli.js';
import { silentLogger } from '../../src/util/logger.js';
import { RawClient } from './helpers.js';

const CLI_PATH = fileURLToPath(new URL('../../src/server/cli.ts', import.meta.url));

function testIo(onStarted?: (lines: string[]) => Promise<void>): CliIo & { outLines: string[]; errLines: string[] } {
  const outLines: string[] = [];
  const errLines: string[] = [];
  return {
    outLines,
    errLines,
    out: (line) => void outLines.push(line),
    err: (line) => void errLines.push(line),
    logger: silentLogger,
    waitForStop: async () => {
      await onStarted?.(outLines);
    },
  };
}

describe('wss-sessions CLI', () => {
  it('starts a server on --port 0, prints both addresses, serves, then stops cleanly', async () => {
    let client: RawClient | undefined;
    const io = testIo(async (lines) => {
      const wsLine = lines.find((l) => l.startsWith('WebSocket: '));
      const httpLine = lines.find((l) => l.startsWith('HTTP: '));
      expect(wsLine).toMatch(/^WebSocket: ws:\/\/127\.0\.0\.1:\d+$/);
      expect(httpLine).toMatch(/^HTTP: {6}http:\/\/127\.0\.0\.1:\d+$/);
      client = await RawClient.open(wsLine!.slice('WebSocket: '.length));
      const res = await client.join();
      expect(res.result.message).toBe('open');
    });
    expect(await main(['serve', '--port', '0', '--host', '127.0.0.1'], io)).toBe(0);
    expect((await client!.closed).code).toBe(1001);
    expect(io.outLines.at(-1)).toBe('Stopped.');
  });

  it('prints help and refuses bad arguments with exit code 2', async () => {
    const help = testIo();
    expect(await main(['--help'], help)).toBe(0);
    expect(help.outLines).toEqual([USAGE]);

    for (const argv of [[], ['run'], ['serve', '--port', 'abc'], ['serve', '--port', '70000'], ['serve', '--bogus']]) {
      const io = testIo();
      expect(await main(argv, io), argv.join(' ')).toBe(2);
      expect(io.errLines.join('\n')).not.toBe('');
    }
  });

  it('reports a port that is already taken with exit code 1', async () => {
    let port = 0;
    const first = testIo(async (lines) => {
      port = Number(lines[0]!.split(':').at(-1));
      const second = testIo();
      expect(await main(['serve', '--port', String(port)], second)).toBe(1);
      expect(second.errLines[0]).toMatch(/^Could not start the server: .*EADDRINUSE/);
    });
    expect(await main(['serve', '--port', '0'], first)).toBe(0);
    expect(port).toBeGreaterThan(0);
  });

  it('starts with a node shebang and stops on SIGTERM when run as a program', async () => {
    expect(readFileSync(CLI_PATH, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    const child = spawn(process.execPath, ['--import', 'tsx', CLI_PATH, 'serve', '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await talkThenStop();
    } catch (err) {
      child.kill('SIGKILL');
      throw err;
    }
    expect(await exited).toBe(0);

    async function talkThenStop(): Promise<void> {
      const lines = createInterface({ input: child.stdout });
      let url = '';
      for await (const line of lines) {
        if (line.startsWith('WebSocket: ')) {
          url = line.slice('WebSocket: '.length);
          break;
        }
      }
      const client = await RawClient.open(url);
      expect((await client.request('WSS_Handshake', { user_token: 'cli' })).result.message).toBe('accept');
      child.kill('SIGTERM');
      expect((await client.closed).code).toBe(1001);
    }
  });
});
