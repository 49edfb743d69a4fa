/**
 * The reference server in a process of its own, for tests that kill it
 * (`node --import tsx relay-process.ts '<json options>'`). Loading takes a
 * while, so it prints `{"loaded":true}` once loaded and starts listening when
 * its stdin says `listen` (a test can have the next server ready before it
 * kills the current one); then it prints `{"port":N}`. Options: `port` (0 for any free one),
 * and `drop` / `duplicate`, the chances (0 to 1) that a message push (a
 * `direct` or `broadcast` frame to a session) is dropped or sent twice,
 * drawn from a PRNG seeded with `seed`: a hostile relay. Presence pushes and
 * responses pass unchanged.
 */
import { createServer } from '../../src/server/index.js';
import { prng } from './prng.js';

interface RelayOptions {
  port?: number;
  drop?: number;
  duplicate?: number;
  seed?: number;
}

const { port = 0, drop = 0, duplicate = 0, seed = 1 }: RelayOptions = JSON.parse(process.argv[2] ?? '{}');

const random = prng(seed);
/** A message push carries a `result` with type direct or broadcast and no `id`. */
function isMessagePush(frame: string): boolean {
  const parsed = JSON.parse(frame) as { id?: unknown; result?: { type?: unknown } };
  const type = parsed.result?.type;
  return !('id' in parsed) && (type === 'direct' || type === 'broadcast');
}

const hooks =
  drop || duplicate
    ? {
        outgoing(frame: string): string | string[] | null {
          if (!isMessagePush(frame)) return frame;
          const roll = random();
          if (roll < drop) return null;
          return roll < drop + duplicate ? [frame, frame] : frame;
        },
      }
    : {};

async function listen(): Promise<void> {
  const server = await createServer({ port, host: '127.0.0.1', maxConnectionsPerIp: 1000, demo: false, hooks });
  process.stdout.write(`${JSON.stringify({ port: server.port })}\n`);
  process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
}

process.stdin.once('data', () => void listen());
process.stdout.write(`${JSON.stringify({ loaded: true })}\n`);
