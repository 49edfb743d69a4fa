/**
 * base64 in Chromium, through the built browser bundle (dist/browser/crypto.js): real
 * browsers take the native `Uint8Array.fromBase64`/`toBase64` path, which Node 20 lacks,
 * so this is where that path meets the same strictness cases as the other codecs.
 */
import { describe, expect, it } from 'vitest';
import { badInputs } from '../crypto/base64-cases.js';
import { useBrowserSuite, type PageGlobals } from './harness.js';

type CryptoModule = typeof import('../../src/crypto/index.js');

const suite = useBrowserSuite();

describe('base64 in Chromium (dist/browser/crypto.js)', () => {
  it('uses the native codec, round-trips every size like btoa, and rejects every non-canonical text', async () => {
    const { page } = await suite.open(`${suite.assets.origin}/`, { record: true });
    const outcome = await page.evaluate(
      async ({ mod, cases }) => {
        const { base64Implementation, bytesToBase64, base64ToBytes } = (await (
          window as unknown as PageGlobals
        ).loadModule(mod)) as CryptoModule;
        const reference = (bytes: Uint8Array): string =>
          btoa(Array.from(bytes, (b) => String.fromCharCode(b)).join(''));
        const mismatches: number[] = [];
        for (const size of [...Array.from({ length: 301 }, (_, i) => i), 65_536]) {
          const bytes = crypto.getRandomValues(new Uint8Array(size));
          const text = bytesToBase64(bytes);
          const back = base64ToBytes(text);
          if (text !== reference(bytes) || back.length !== size || back.some((b, i) => b !== bytes[i]))
            mismatches.push(size);
        }
        const accepted: string[] = [];
        const codes = new Set<string>();
        for (const [what, text] of cases) {
          try {
            base64ToBytes(text);
            accepted.push(what);
          } catch (error) {
            codes.add((error as { code: string }).code);
          }
        }
        return { implementation: base64Implementation, mismatches, accepted, codes: [...codes] };
      },
      { mod: `${suite.assets.origin}/dist/browser/crypto.js`, cases: badInputs },
    );
    expect(outcome).toEqual({ implementation: 'native', mismatches: [], accepted: [], codes: ['ERR_KEY_FORMAT'] });
  });
});
