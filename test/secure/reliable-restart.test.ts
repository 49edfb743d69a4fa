/**
 * Reliable delivery survives the relay's death: the reference server runs as a
 * child process, is killed with SIGKILL under traffic from three reliable
 * sessions and restarted on the same port 2 s later; then the same through a
 * hostile relay that drops 10 % of message pushes and sends 10 % twice.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { type DecryptErrorEvent, SecureSession, type UndeliveredEvent } from '../../src/secure/index.js';
import { next, untilPeer } from './helpers.js';

const SCRIPT = fileURLToPath(new URL('./relay-process.ts', import.meta.url));
/** The outage the scenario asks for: the server is down this long between the kill and the restart. */
const OUTAGE_MS = 2000;
const NAMES: readonly string[] = ['alice', 'bob', 'carol'];

/** The reference server in a child process: loaded first, then told to listen (so a replacement can be ready before the kill). */
class Relay {
  readonly #child: ChildProcess;
  readonly #lines: AsyncIterator<string>;
  readonly exited: Promise<unknown>;

  private constructor(child: ChildProcess) {
    this.#child = child;
    this.#lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })[Symbol.asyncIterator]();
    this.exited = new Promise((resolve) => child.once('exit', resolve));
  }

  /** Starts a relay process and waits until it has loaded. */
  static async load(options: { port: number; drop?: number; duplicate?: number; seed?: number }): Promise<Relay> {
    const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, JSON.stringify(options)], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const relay = new Relay(child);
    expect(JSON.parse(await relay.#line())).toEqual({ loaded: true });
    return relay;
  }

  /** Starts listening. @returns the port. */
  async listen(): Promise<number> {
    this.#child.stdin?.write('listen\n');
    return (JSON.parse(await this.#line()) as { port: number }).port;
  }

  kill(): Promise<unknown> {
    this.#child.kill('SIGKILL');
    return this.exited;
  }

  async #line(): Promise<string> {
    const { value, done } = await this.#lines.next();
    if (done) throw new Error('the relay process ended before it answered');
    return value;
  }
}

type Sent = { from: string; n: number };

const relays: Relay[] = [];
const sessions: SecureSession[] = [];
afterEach(async () => {
  await Promise.all(sessions.splice(0).map((s) => s.disconnect()));
  await Promise.all(relays.splice(0).map((r) => r.kill()));
});

/** Resolves once `count()` reaches `target`, checked on every message `session` gets. */
function untilCount(session: SecureSession, count: () => number, target: number): Promise<void> {
  if (count() >= target) return Promise.resolve();
  return next(session, 'message', () => count() >= target).then(() => undefined);
}

/**
 * Three reliable sessions each send a broadcast or a direct message every 10 ms
 * (100 messages/s each) with `{ await: 'delivered' }` while the relay is killed
 * and restarted; every message reaches every intended recipient exactly once,
 * in order, and every await resolves as delivered.
 */
async function scenario(hostile: { drop: number; duplicate: number; seed: number } | undefined): Promise<void> {
  const first = await Relay.load({ port: 0, ...hostile });
  relays.push(first);
  const port = await first.listen();
  const reconnect = { interval: 50, maxInterval: 400, backoffMultiplier: 2, jitter: 0.5 };
  for (const name of NAMES) {
    const s = new SecureSession({ url: `ws://127.0.0.1:${port}`, info: 'restart', delivery: 'reliable', reconnect });
    sessions.push(s);
    await s.connect();
    await s.setPrivateId(name);
  }
  await Promise.all(sessions.flatMap((s) => NAMES.filter((n) => n !== s.privateId).map((n) => untilPeer(s, () => n))));

  // What each session received, by sender, and what each sender meant for each recipient.
  const received = new Map(NAMES.map((name) => [name, new Map(NAMES.map((from) => [from, [] as number[]]))]));
  const expected = new Map(NAMES.map((name) => [name, new Map(NAMES.map((to) => [to, [] as number[]]))]));
  const undelivered: UndeliveredEvent[] = [];
  const dropped: DecryptErrorEvent[] = [];
  const total = (name: string): number =>
    [...(received.get(name)?.values() ?? [])].reduce((sum, list) => sum + list.length, 0);
  for (const [i, s] of sessions.entries()) {
    const name = NAMES[i] as string;
    s.on('message', ({ data }) => {
      const { from, n } = data as Sent;
      received.get(name)?.get(from)?.push(n);
    });
    s.on('undelivered', (e) => undelivered.push(e));
    s.on('decrypt_error', (e) => dropped.push(e));
  }

  let outage = [0, 0];
  const outcomes: Array<Promise<{ confirmed: string[]; unconfirmed: string[] } | Error>> = [];
  const settle = (p: Promise<{ confirmed: string[]; unconfirmed: string[] }>): void =>
    void outcomes.push(p.catch((error: Error) => error));
  let n = 0;
  const tick = setInterval(() => {
    n++;
    for (const [i, s] of sessions.entries()) {
      const from = NAMES[i] as string;
      const others = NAMES.filter((o) => o !== from);
      const data: Sent = { from, n };
      if (n % 2) {
        for (const to of others) expected.get(from)?.get(to)?.push(n);
        settle(s.broadcast(data, { await: 'delivered' }));
      } else {
        const to = others[(n >> 1) % 2] as string;
        expected.get(from)?.get(to)?.push(n);
        settle(s.send(to, data, { await: 'delivered' }).then(() => ({ confirmed: [to], unconfirmed: [] })));
      }
    }
  }, 10);

  try {
    await Promise.all(sessions.map((s, i) => untilCount(s, () => total(NAMES[i] as string), 40)));
    const second = await Relay.load({ port, ...hostile });
    relays.push(second);
    const back = sessions.map((s) => next(s, 'reconnected'));
    await first.kill();
    const killedAt = n;
    // The scripted outage of the scenario, not a wait for a condition: the server is gone for 2 s.
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
    outage = [killedAt, n];
    expect(await second.listen()).toBe(port);
    await Promise.all(back);
    const marks = NAMES.map((name) => total(name));
    await Promise.all(
      sessions.map((s, i) => untilCount(s, () => total(NAMES[i] as string), (marks[i] as number) + 60)),
    );
  } finally {
    clearInterval(tick);
  }

  const settled = await Promise.all(outcomes);
  expect(settled.filter((r) => r instanceof Error)).toEqual([]);
  const results = settled as Array<{ confirmed: string[]; unconfirmed: string[] }>;
  expect(results.every((r) => r.unconfirmed.length === 0)).toBe(true);
  expect(results.reduce((sum, r) => sum + r.confirmed.length, 0)).toBe(
    NAMES.reduce((sum, from) => sum + NAMES.reduce((k, to) => k + (expected.get(from)?.get(to)?.length ?? 0), 0), 0),
  );
  for (const to of NAMES)
    for (const from of NAMES) {
      if (from === to) continue;
      const want = expected.get(from)?.get(to) ?? [];
      expect(want.length).toBeGreaterThan(100);
      expect(received.get(to)?.get(from), `${from} -> ${to}`).toEqual(want);
    }
  // Messages were sent while the relay was dead (they waited), and all of them arrived too.
  expect((outage[1] as number) - (outage[0] as number)).toBeGreaterThan(50);
  expect(undelivered).toEqual([]);
  // The hostile relay's copies are dropped as replays; nothing else is dropped.
  expect(dropped.filter((e) => e.reason !== 'replay')).toEqual([]);
  if (!hostile) expect(dropped).toEqual([]);
  else expect(dropped.length).toBeGreaterThan(0);
}

it('a relay killed with SIGKILL and restarted 2 s later loses nothing: exactly once, in order, confirmed', async () => {
  await scenario(undefined);
}, 60_000);

it('the same through a hostile relay that drops 10 % of message pushes and duplicates 10 %', async () => {
  await scenario({ drop: 0.1, duplicate: 0.1, seed: 16 });
}, 90_000);
