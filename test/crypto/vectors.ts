/** Loads Wycheproof vector files from the shared folder next to the project (never copied into it). */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Folder holding the Wycheproof JSON files: `$WSS_VECTORS_DIR`, else `../shared/vectors/wycheproof`. */
export const vectorsDir = process.env.WSS_VECTORS_DIR ?? resolve(projectRoot, '../shared/vectors/wycheproof');

export interface WycheproofFile<G> {
  algorithm: string;
  numberOfTests: number;
  testGroups: G[];
}

/** What every Wycheproof test case has. */
export interface Test {
  tcId: number;
  flags: string[];
  result: 'valid' | 'invalid' | 'acceptable';
  comment: string;
}

export interface Group<T> {
  tests: T[];
}

/** One AEAD test case; every field but the numbers is hex. */
export interface AeadTest extends Test {
  key: string;
  iv: string;
  aad: string;
  msg: string;
  ct: string;
  tag: string;
}

/** A group of AEAD tests sharing the sizes, in bits. */
export interface AeadGroup extends Group<AeadTest> {
  ivSize: number;
  keySize: number;
  tagSize: number;
}

/** The parsed file, or `undefined` (with a visible notice) when it is absent. */
export function loadVectors<G>(file: string): WycheproofFile<G> | undefined {
  const path = join(vectorsDir, file);
  if (!existsSync(path)) {
    console.warn(
      `[wycheproof] ${path} not found: skipping these vector tests (set WSS_VECTORS_DIR to the folder holding ${file})`,
    );
    return undefined;
  }
  return JSON.parse(readFileSync(path, 'utf8')) as WycheproofFile<G>;
}

export function hex(text: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(Buffer.from(text, 'hex'));
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
