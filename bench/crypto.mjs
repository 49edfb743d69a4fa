// Base64 throughput of wss-sessions/crypto (the built package) against the
// per-byte string loop + btoa/atob that the original signal-crypto.ts used.
// Run alone with `node bench/crypto.mjs` after `npm run build`.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

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

function benchModule(mod, input, text, _size) {
  const { arrayBufferToBase64, base64ToArrayBuffer, base64Implementation } = mod;
  if (arrayBufferToBase64(input) !== text)
    throw new Error(`${base64Implementation}: encode output differs from the baseline`);
  if (Buffer.compare(Buffer.from(base64ToArrayBuffer(text)), Buffer.from(input)) !== 0) {
    throw new Error(`${base64Implementation}: decode output differs from the input`);
  }
  return {
    implementation: base64Implementation,
    encodeMs: measure(() => arrayBufferToBase64(input)),
    decodeMs: measure(() => base64ToArrayBuffer(text)),
  };
}

/**
 * Measures base64 encode/decode of `size` random bytes: ours vs the baseline loop.
 * Prints a small table unless `quiet`, and returns the figures.
 */
export async function benchCrypto({ size = 1 << 20, quiet = false } = {}) {
  const node = await loadCrypto('../dist/esm/node/crypto.js');
  const browser = await loadBrowserFallback();
  const input = new Uint8Array(randomBytes(size)).buffer;
  const text = baselineArrayBufferToBase64(input);

  const baseline = {
    encodeMs: measure(() => baselineArrayBufferToBase64(input), { minIterations: 5 }),
    decodeMs: measure(() => baselineBase64ToArrayBuffer(text), { minIterations: 5 }),
  };
  const row = (oursMs, baselineMs) => ({
    oursMs: Number(oursMs.toFixed(3)),
    baselineMs: Number(baselineMs.toFixed(3)),
    ratio: Number((baselineMs / oursMs).toFixed(1)),
    oursMBps: Number((size / 1e6 / (oursMs / 1000)).toFixed(0)),
  });
  const rows = {};
  for (const run of [benchModule(node, input, text, size), benchModule(browser, input, text, size)]) {
    rows[`encode (${run.implementation})`] = row(run.encodeMs, baseline.encodeMs);
    rows[`decode (${run.implementation})`] = row(run.decodeMs, baseline.decodeMs);
  }
  const result = { sizeBytes: size, rows };
  if (!quiet) {
    console.log(
      `base64 of ${(size / 1048576).toFixed(2)} MiB: ours vs baseline (per-byte loop + btoa/atob); ratio = baseline / ours`,
    );
    console.table(rows);
  }
  return result;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await benchCrypto();
}
