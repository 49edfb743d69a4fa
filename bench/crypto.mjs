// Base64 throughput of wss-sessions/crypto (the built package) against the
// per-byte string loop + btoa/atob that the original signal-crypto.ts used, and
// AES-256-GCM through the Node entry (node:crypto's synchronous cipher) against
// the browser bundle (WebCrypto), for information.
// Run alone with `node bench/crypto.mjs` after `npm run build`.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { alternate, perRound, result, spread } from './measure.mjs';
import { figure } from './util.mjs';

/** Baseline: the original per-byte loop encoder. */
function baselineArrayBufferToBase64(buffer) {
  const bytes = new Uint8Array(buffer);
  let binary = '';
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
  return btoa(binary);
}

/** Baseline: the original atob + per-byte loop decoder. */
function baselineBase64ToArrayBuffer(base64) {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes.buffer;
}

/**
 * Mean milliseconds of this process's CPU time (user + system) per call, after
 * warm-up, over at least `minIterations` calls and `minMs` of CPU time. CPU
 * time rather than wall time: the calls are synchronous, and on a shared
 * machine the wall clock also counts the time other processes had the core.
 */
function measure(fn, { minIterations = 20, minMs = 400 } = {}) {
  for (let i = 0; i < 3; i++) fn();
  let iterations = 0;
  const start = process.cpuUsage();
  let elapsed = 0;
  while (iterations < minIterations || elapsed < minMs) {
    fn();
    iterations++;
    const { user, system } = process.cpuUsage(start);
    elapsed = (user + system) / 1000;
  }
  return elapsed / iterations;
}

async function loadCrypto(file) {
  try {
    return await import(file);
  } catch (err) {
    throw new Error(`bench/crypto.mjs needs the built package (${file.slice(3)}); run "npm run build" first`, {
      cause: err,
    });
  }
}

/** The browser bundle loaded with `Buffer` hidden, so it picks the portable atob/btoa codec as an older browser would. */
async function loadBrowserFallback() {
  const saved = globalThis.Buffer;
  globalThis.Buffer = undefined;
  try {
    return await loadCrypto('../dist/browser/crypto.js');
  } finally {
    globalThis.Buffer = saved;
  }
}

/** Checks that a module's codec gives the baseline's output before it is timed. */
function checkModule({ arrayBufferToBase64, base64ToArrayBuffer, base64Implementation }, input, text) {
  if (arrayBufferToBase64(input) !== text)
    throw new Error(`${base64Implementation}: encode output differs from the baseline`);
  if (Buffer.compare(Buffer.from(base64ToArrayBuffer(text)), Buffer.from(input)) !== 0) {
    throw new Error(`${base64Implementation}: decode output differs from the input`);
  }
}

/** Milliseconds per encryptBytes + decryptBytes pair of `size` bytes, `inFlight` pairs at a time. */
async function aesPairs(mod, key, { size, count, inFlight }) {
  const plaintext = new Uint8Array(randomBytes(size));
  const iv = new Uint8Array(randomBytes(12));
  const pair = async () => {
    const ciphertext = await mod.encryptBytes({ key, iv, plaintext });
    await mod.decryptBytes({ key, iv, ciphertext });
  };
  const start = performance.now();
  for (let done = 0; done < count; done += inFlight) await Promise.all(Array.from({ length: inFlight }, pair));
  return (performance.now() - start) / count;
}

/**
 * AES-256-GCM seal + open of 1 KiB: the Node entry, where the Node setup puts
 * AES-GCM on node:crypto, against the browser bundle, which has WebCrypto
 * only; one pair at a time and 64 in flight. Figures for information (no target).
 */
async function benchAesGcm(node, portable) {
  const raw = new Uint8Array(randomBytes(32));
  const keys = { node: await node.importAesGcmKey(raw), web: await portable.importAesGcmKey(raw) };
  const iv = new Uint8Array(12);
  const plaintext = new Uint8Array(randomBytes(1024));
  const sealed = [node, portable].map(async (mod, i) =>
    Buffer.from(await mod.encryptBytes({ key: Object.values(keys)[i], iv, plaintext })),
  );
  const [a, b] = await Promise.all(sealed);
  if (!a.equals(b)) throw new Error('AES-GCM: the Node entry and the browser bundle disagree');
  console.log('\nCrypto: AES-256-GCM seal + open of 1 KiB, Node entry (node:crypto) vs browser bundle (WebCrypto)');
  const times = (n) => `${n.toFixed(2)}x`;
  for (const shape of [
    { name: 'one at a time', count: 2000, inFlight: 1 },
    { name: '64 in flight', count: 4096, inFlight: 64 },
  ]) {
    const run = (mod, key) => () => aesPairs(mod, key, { size: 1024, ...shape });
    const runs = await alternate({ node: run(node, keys.node), web: run(portable, keys.web) });
    for (const [name, ms] of Object.entries(runs)) {
      figure(
        `${name === 'node' ? 'node:crypto' : 'WebCrypto'}, ${shape.name}`,
        spread(
          ms.map((m) => 1000 / m),
          (n) => Math.round(n).toLocaleString('en-US'),
        ),
        'pairs/s',
      );
    }
    figure(`node:crypto / WebCrypto rate, ${shape.name}`, spread(perRound(runs.web, runs.node), times));
  }
}

/**
 * Base64 of `size` random bytes: the per-byte loop + btoa/atob the seed used
 * against the portable codec (the one a browser without `Uint8Array.fromBase64`
 * runs) and Node's. Each sample is the mean CPU time of one call; ratio = baseline / ours.
 * @returns the figures P5-base64-encode and P5-base64-decode.
 */
export async function benchCrypto({ size = 1 << 20 } = {}) {
  const node = await loadCrypto('../dist/esm/node/crypto.js');
  const portable = await loadBrowserFallback();
  const input = new Uint8Array(randomBytes(size)).buffer;
  const text = baselineArrayBufferToBase64(input);
  checkModule(node, input, text);
  checkModule(portable, input, text);
  console.log(`\nCrypto: base64 of ${(size / 1048576).toFixed(2)} MiB, ours vs the per-byte loop + btoa/atob`);
  const runs = await alternate(
    {
      loopEncode: () => measure(() => baselineArrayBufferToBase64(input), { minIterations: 5 }),
      portableEncode: () => measure(() => portable.arrayBufferToBase64(input)),
      nodeEncode: () => measure(() => node.arrayBufferToBase64(input)),
      loopDecode: () => measure(() => baselineBase64ToArrayBuffer(text), { minIterations: 5 }),
      portableDecode: () => measure(() => portable.base64ToArrayBuffer(text)),
      nodeDecode: () => measure(() => node.base64ToArrayBuffer(text)),
    },
    { warmup: false },
  );
  const mbps = (ms) =>
    spread(
      ms.map((m) => size / 1e6 / (m / 1000)),
      (n) => n.toFixed(0),
    );
  for (const [name, samples] of Object.entries(runs)) figure(name, mbps(samples), 'MB/s');
  const times = (n) => `${n.toFixed(1)}x`;
  figure(
    `node codec (${node.base64Implementation}) encode / loop`,
    spread(perRound(runs.loopEncode, runs.nodeEncode), times),
  );
  figure(
    `node codec (${node.base64Implementation}) decode / loop`,
    spread(perRound(runs.loopDecode, runs.nodeDecode), times),
  );
  await benchAesGcm(node, portable);
  return [
    result({
      id: 'P5-base64-encode',
      label: `base64 encode, portable codec (${portable.base64Implementation}) / per-byte loop`,
      samples: perRound(runs.loopEncode, runs.portableEncode),
      goal: 5,
    }),
    result({
      id: 'P5-base64-decode',
      label: `base64 decode, portable codec (${portable.base64Implementation}) / atob + per-byte loop`,
      samples: perRound(runs.loopDecode, runs.portableDecode),
      goal: 1,
    }),
  ];
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await benchCrypto();
}
