import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.js';
import { clusterDefaults, redactedUrl, resolveClusterOptions } from '../../src/server/cluster/options.js';
import { main, type CliIo } from '../../src/server/cli.js';
import { createServer } from '../../src/server/index.js';
import { silentLogger } from '../../src/util/logger.js';

describe('cluster options', () => {
  it('fill in their defaults', () => {
    expect(resolveClusterOptions({ redis: 'redis://127.0.0.1:6379' })).toEqual({
      redis: 'redis://127.0.0.1:6379',
      ...clusterDefaults,
    });
  });

  it.each([
    [{}, /'cluster.redis' must be a Redis URL/],
    [{ redis: 'http://x' }, /redis:\/\/ or rediss:\/\//],
    [{ redis: 'not a url' }, /'cluster.redis'/],
    [{ redis: 'redis://h', heartbeat: 50 }, /'cluster.heartbeat' must be an integer from 100/],
    [{ redis: 'redis://h', prefix: 'has space' }, /'cluster.prefix'/],
    [{ redis: 'redis://h', commandTimeout: 1.5 }, /'cluster.commandTimeout'/],
    [{ redis: 'redis://h', nodes: 3 }, /'cluster.nodes'.*unknown option/],
    ['redis://h', /'cluster.' must be an object/],
  ])('refuse %j up front, naming the option', (options, message) => {
    expect(() => resolveClusterOptions(options)).toThrow(InvalidArgumentError);
    expect(() => resolveClusterOptions(options)).toThrow(message);
  });

  it('are checked by createServer before anything starts, as is trustProxy', async () => {
    await expect(createServer({ port: 0, cluster: { redis: 'ftp://x' } })).rejects.toThrow(/cluster.redis/);
    await expect(createServer({ port: 0, trustProxy: ['a proxy'] })).rejects.toThrow(/trustProxy/);
  });

  it('hide the password of the Redis URL in what the server shows', () => {
    expect(redactedUrl('redis://user:secret@10.0.0.5:6380/2')).toBe('redis://user:***@10.0.0.5:6380/2');
    expect(redactedUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
  });
});

describe('the CLI', () => {
  const io = (): CliIo & { errors: string[] } => {
    const errors: string[] = [];
    return {
      errors,
      out: () => {},
      err: (line) => errors.push(line),
      logger: silentLogger,
      waitForStop: async () => {},
    };
  };

  it('needs --redis for the other cluster flags and checks them', async () => {
    const a = io();
    expect(await main(['serve', '--cluster-heartbeat', '500'], a)).toBe(2);
    expect(a.errors.join()).toMatch(/need --redis/);
    const b = io();
    expect(await main(['serve', '--redis', 'redis://127.0.0.1:1', '--cluster-heartbeat', 'x'], b)).toBe(2);
    expect(b.errors.join()).toMatch(/--cluster-heartbeat must be a whole number/);
    const c = io();
    expect(await main(['serve', '--port', '0', '--redis', 'redis://127.0.0.1:1'], c)).toBe(1);
    expect(c.errors.join()).toMatch(/Could not start the server: Could not reach Redis at redis:\/\/127\.0\.0\.1:1/);
    const d = io();
    expect(await main(['serve', '--port', '0', '--trust-proxy', '127.0.0.1,nonsense'], d)).toBe(2);
    expect(d.errors.join()).toMatch(/trustProxy/);
  });
});
