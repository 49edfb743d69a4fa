/**
 * The `WSS_Connect` peer list of one node, kept serialised: each connect
 * appends its private ID and options to two growing byte buffers, so the
 * answer to the next connect is two slices, not a fresh serialisation of
 * every peer. Bytes already handed out are never written again (growing
 * copies into a new buffer; a removal rebuilds into new buffers), so a slice
 * stays valid while a socket is still writing it.
 */
import type { PeerList } from './broker.js';

/** One growing `a,b,c` list of JSON texts. */
class JsonList {
  #buffer = Buffer.allocUnsafe(0);
  #length = 0;
  #count = 0;

  get count(): number {
    return this.#count;
  }

  append(json: string): void {
    const bytes = Buffer.byteLength(json);
    const comma = this.#count > 0 ? 1 : 0;
    const needed = this.#length + comma + bytes;
    if (needed > this.#buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, this.#buffer.length * 2, 4096));
      this.#buffer.copy(grown, 0, 0, this.#length);
      this.#buffer = grown;
    }
    if (comma) this.#buffer[this.#length++] = 0x2c;
    this.#buffer.write(json, this.#length, 'utf8');
    this.#length += bytes;
    this.#count++;
  }

  bytes(): Buffer {
    return this.#buffer.subarray(0, this.#length);
  }
}

/** A peer as the cache needs it. */
export interface CachedPeer {
  readonly privateId: string;
  readonly optionsJson: string;
}

/** The serialised peer list, rebuilt from `source` after a removal or rename. */
export class PeerCache {
  readonly #source: () => Iterable<CachedPeer>;
  #ids = new JsonList();
  #options = new JsonList();
  #stale = false;

  /** @param source the peers in presence order, read when the cache is rebuilt. */
  constructor(source: () => Iterable<CachedPeer>) {
    this.#source = source;
  }

  /** The list as it is now. */
  snapshot(): PeerList {
    if (this.#stale) this.#rebuild();
    return { count: this.#ids.count, ids: this.#ids.bytes(), options: this.#options.bytes() };
  }

  /** A peer joined at the end. */
  added(peer: CachedPeer): void {
    if (this.#stale) return;
    this.#ids.append(JSON.stringify(peer.privateId));
    this.#options.append(peer.optionsJson);
  }

  /** A peer left or moved: rebuild on the next snapshot. */
  invalidate(): void {
    this.#stale = true;
  }

  #rebuild(): void {
    this.#ids = new JsonList();
    this.#options = new JsonList();
    this.#stale = false;
    for (const peer of this.#source()) this.added(peer);
  }
}
