/** The replay and reflection guard of a Signal connection (client and reference server). */
import { InvalidArgumentError } from '../errors.js';

/** Characters of an IV: base64 of 12 bytes. */
const IV_CHARS = 16;
/** 32-bit words per IV: 4 characters (8 bits each; base64 is ASCII) to a word. */
const WORDS = IV_CHARS / 4;
/** IVs the arrays start with room for. */
const INITIAL = 32;
/** The IV being looked up, as words: one scratch array for every guard (JavaScript runs one call at a time). */
const KEY = new Int32Array(WORDS);

/**
 * Remembers the IVs of one connection's `encrypted` frames so that a frame seen
 * before — received earlier, or sent by this side and reflected back — is
 * rejected. Keys are IVs as they travel: the 16-character canonical base64 of 12 bytes.
 *
 * Bound: at most `capacity` IVs, evicted oldest first (FIFO). Once an IV has
 * been evicted, a replay of that old frame is NOT detected: it still
 * authenticates under the connection's key. So the guard stops replays and
 * reflections within the last `capacity` frames of a connection, not older
 * ones; the wire protocol carries no sequence number or timestamp that would
 * allow more without unbounded memory. Frames can never be replayed into
 * another connection, because every connection derives a new key. The IVs are
 * random 96-bit values, so an honest peer repeating one is not a practical concern.
 *
 * Memory: the IVs' characters and hashes in typed arrays, 28 to 36 bytes per IV
 * remembered (112 KiB for the default 4096), grown as IVs come; no object per
 * IV, so a busy connection gives the garbage collector nothing to trace or move.
 *
 * @throws InvalidArgumentError from `has`, `add` and `admit` for a string that is not 16 characters.
 */
export class ReplayGuard {
  readonly #capacity: number;
  /** The IVs, 4 words each, in the order added; once `#count` reaches the capacity, a ring whose slot `#next` is the oldest. */
  #ring = new Int32Array(0);
  /**
   * The hash of the IV in each ring slot: eviction moves entries back to
   * their home positions, which it would otherwise hash anew, one by one.
   */
  #hashes = new Int32Array(0);
  /** Open addressing with linear probing: 1 + the ring slot of an IV, 0 for an empty slot; at most half full. */
  #table = new Int32Array(0);
  #count = 0;
  #next = 0;
  /** Keys the hash, so that a peer choosing IVs cannot aim them at one stretch of the table; drawn anew with each table. */
  #seed = 0;
  /** The hash of the IV last loaded into {@link KEY}. */
  #hash = 0;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** How many IVs are remembered. */
  get size(): number {
    return this.#count;
  }

  /** Whether `iv` is remembered. */
  has(iv: string): boolean {
    this.#load(iv);
    return this.#find() >= 0;
  }

  /** Remembers `iv`, evicting the oldest IV when full. */
  add(iv: string): this {
    this.admit(iv);
    return this;
  }

  /**
   * Remembers `iv` unless it is remembered already (evicting the oldest IV
   * when full); whether it was new. One lookup where `has` then `add` take two.
   */
  admit(iv: string): boolean {
    this.#load(iv);
    if (this.#find() >= 0) return false;
    let slot = this.#count;
    if (slot < this.#capacity) {
      if (slot * WORDS === this.#ring.length) this.#grow();
      this.#count++;
    } else {
      slot = this.#next;
      this.#remove(slot);
      this.#next = (slot + 1) % this.#capacity;
    }
    this.#ring.set(KEY, slot * WORDS);
    this.#hashes[slot] = this.#hash;
    this.#insert(slot);
    return true;
  }

  /** Forgets every IV and releases the memory. */
  clear(): void {
    this.#ring = new Int32Array(0);
    this.#hashes = new Int32Array(0);
    this.#table = new Int32Array(0);
    this.#count = this.#next = 0;
  }

  /** Puts `iv`'s characters into {@link KEY} and their hash into `#hash`. */
  #load(iv: string): void {
    if (typeof iv !== 'string' || iv.length !== IV_CHARS)
      throw new InvalidArgumentError(`ReplayGuard: an IV is ${IV_CHARS} characters of base64 (12 bytes)`);
    for (let w = 0, c = 0; w < WORDS; w++, c += 4)
      KEY[w] =
        (iv.charCodeAt(c) & 255) |
        ((iv.charCodeAt(c + 1) & 255) << 8) |
        ((iv.charCodeAt(c + 2) & 255) << 16) |
        ((iv.charCodeAt(c + 3) & 255) << 24);
    this.#hash = this.#hashOf(-1);
  }

  /** The table position holding {@link KEY}, or -1. */
  #find(): number {
    const table = this.#table;
    if (!table.length) return -1;
    const ring = this.#ring;
    const mask = table.length - 1;
    for (let i = this.#hash & mask; ; i = (i + 1) & mask) {
      const entry = table[i] as number;
      if (!entry) return -1;
      const at = (entry - 1) * WORDS;
      if (ring[at] === KEY[0] && ring[at + 1] === KEY[1] && ring[at + 2] === KEY[2] && ring[at + 3] === KEY[3])
        return i;
    }
  }

  #insert(slot: number): void {
    const table = this.#table;
    const mask = table.length - 1;
    let i = (this.#hashes[slot] as number) & mask;
    while (table[i]) i = (i + 1) & mask;
    table[i] = slot + 1;
  }

  /** Takes ring slot `slot` out of the table, moving back the entries after it (no tombstones). */
  #remove(slot: number): void {
    const table = this.#table;
    const hashes = this.#hashes;
    const mask = table.length - 1;
    let hole = (hashes[slot] as number) & mask;
    while (table[hole] !== slot + 1) hole = (hole + 1) & mask;
    for (let i = (hole + 1) & mask; table[i]; i = (i + 1) & mask) {
      const home = (hashes[(table[i] as number) - 1] as number) & mask;
      // The entry at i may fill the hole unless its home lies cyclically in (hole, i].
      if (((i - home) & mask) >= ((i - hole) & mask)) {
        table[hole] = table[i] as number;
        hole = i;
      }
    }
    table[hole] = 0;
  }

  /** Doubles the ring (up to the capacity) and rebuilds the table at twice its size, under a new seed. */
  #grow(): void {
    const slots = Math.min(Math.max(INITIAL, this.#count * 2), this.#capacity);
    const ring = new Int32Array(slots * WORDS);
    ring.set(this.#ring);
    this.#ring = ring;
    this.#hashes = new Int32Array(slots);
    let size = INITIAL * 2;
    while (size < slots * 2) size *= 2;
    this.#table = new Int32Array(size);
    // Whoever has IVs to remember has WebCrypto.
    this.#seed = crypto.getRandomValues(new Int32Array(1))[0] as number;
    for (let slot = 0; slot < this.#count; slot++) {
      this.#hashes[slot] = this.#hashOf(slot);
      this.#insert(slot);
    }
    // KEY's hash under the new seed, for the IV being added.
    this.#hash = this.#hashOf(-1);
  }

  /** The hash of the IV in ring slot `slot`, or of {@link KEY} when `slot` is -1, under the current seed. */
  #hashOf(slot: number): number {
    const words = slot < 0 ? KEY : this.#ring;
    const at = slot < 0 ? 0 : slot * WORDS;
    let h = this.#seed;
    for (let w = 0; w < WORDS; w++) {
      h = Math.imul(h ^ (words[at + w] as number), 0x5bd1e995);
      h ^= h >>> 15;
    }
    return h;
  }
}
