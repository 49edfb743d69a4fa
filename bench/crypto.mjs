// Base64 throughput of wss-sessions/crypto (the built package) against the
// per-byte string loop + btoa/atob that the original signal-crypto.ts used.
// Run alone with `node bench/crypto.mjs` after `npm run build`.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { alternate, median, perRound, result } from './measure.mjs';
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

/** Mean milliseconds per call, after warm-up, over at least `minIterations` calls and `minMs` total. */
function measure(fn, { minIterations = 20, minMs = 400 } = {}) {
  for (let i = 0; i < 3; i++) fn();
  let iterations = 0;
  const start = performance.now();
  let elapsed = 0;
  while (iterations < minIterations || elapsed < minMs) {
    fn();
    iterations++;
    elapsed = performance.now() - start;
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

/**
 * Base64 of `size` random bytes: the per-byte loop + btoa/atob the seed used
 * against the portable codec (the one a browser without `Uint8Array.fromBase64`
 * runs) and Node's. Each sample is the mean time of one call; ratio = baseline / ours.
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
  const mbps = (ms) => `${(size / 1e6 / (median(ms) / 1000)).toFixed(0)} MB/s`;
  for (const [name, samples] of Object.entries(runs)) figure(name, mbps(samples));
  figure(
    `node codec (${node.base64Implementation}) encode / loop`,
    `${median(perRound(runs.loopEncode, runs.nodeEncode)).toFixed(1)}x`,
  );
  figure(
    `node codec (${node.base64Implementation}) decode / loop`,
    `${median(perRound(runs.loopDecode, runs.nodeDecode)).toFixed(1)}x`,
  );
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
