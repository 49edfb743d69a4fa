/** Options of a cluster node (`createServer({ cluster })`), their defaults and their validation. */
import { isRecord } from '../../protocol/guards.js';
import { OptionChecks } from '../option-checks.js';

/**
 * Makes this server one node of a cluster whose nodes share WSS sessions
 * and Signal rooms through Redis (see docs/cluster.md).
 *
 * @example
 * await createServer({ port: 8091, cluster: { redis: 'redis://127.0.0.1:6379' }, trustProxy: ['127.0.0.1'] });
 */
export interface ClusterOptions {
  /**
   * Address of the Redis server every node of the cluster uses:
   * `redis://[[user]:password@]host[:port][/db]`, or `rediss://` for TLS. Required.
   */
  redis: string;
  /**
   * Milliseconds between two heartbeats of a node. A node whose heartbeat has
   * been missing for 1.5 × this long is dead: its sessions leave the cluster
   * and every peer gets their `disconnect` within 2 × this. Default: 2000 (a beat
   * may then be a second late, for a GC pause or a loaded machine, before the node
   * is taken for dead).
   */
  heartbeat?: number;
  /**
   * Prefix of every Redis key and channel the cluster uses; nodes with the
   * same Redis and prefix form one cluster. Default: 'wss:'.
   */
  prefix?: string;
  /**
   * Milliseconds a Redis command may wait to be sent before it fails (the
   * request then answers -32006, cluster unavailable). Default: 2000.
   */
  commandTimeout?: number;
}

/** The defaults of every optional {@link ClusterOptions} member. */
export const clusterDefaults = Object.freeze({
  heartbeat: 2000,
  prefix: 'wss:',
  commandTimeout: 2000,
});

/** {@link ClusterOptions} with every default filled in. */
export type ResolvedClusterOptions = Required<ClusterOptions>;

const KNOWN = new Set(['redis', ...Object.keys(clusterDefaults)]);

const check: OptionChecks = new OptionChecks('cluster.', { maxChars: 80 });

function redisUrl(value: unknown): string {
  if (typeof value !== 'string') check.fail('redis', "a Redis URL such as 'redis://127.0.0.1:6379'", value);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    check.fail('redis', "a Redis URL such as 'redis://127.0.0.1:6379'", value);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:')
    check.fail('redis', 'a redis:// or rediss:// URL', value);
  if (url.hostname === '') check.fail('redis', 'a URL with a host', value);
  return value;
}

/**
 * Checks every member and fills in the defaults.
 * @throws InvalidArgumentError naming the first bad member.
 */
export function resolveClusterOptions(options: unknown): ResolvedClusterOptions {
  if (!isRecord(options)) check.fail('', "an object such as { redis: 'redis://127.0.0.1:6379' }", options);
  check.onlyKnown(options, KNOWN);
  const prefix = options.prefix ?? clusterDefaults.prefix;
  if (typeof prefix !== 'string' || !/^[\x21-\x7e]{1,64}$/.test(prefix))
    check.fail('prefix', '1 to 64 printable ASCII characters without spaces', prefix);
  return {
    redis: redisUrl(options.redis),
    heartbeat: check.int('heartbeat', options.heartbeat ?? clusterDefaults.heartbeat, 100, 60_000),
    prefix,
    commandTimeout: check.int('commandTimeout', options.commandTimeout ?? clusterDefaults.commandTimeout, 50, 60_000),
  };
}

/** The Redis URL without its password, for logs and `/healthz`. */
export function redactedUrl(redis: string): string {
  const url = new URL(redis);
  if (url.password !== '') url.password = '***';
  return url.toString();
}
