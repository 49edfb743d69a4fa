/**
 * The chat demo's peer book (GET /demo/peers.js), a browser module the page
 * script imports: what the page knows of each peer, kept past its departure.
 *
 * A pair safety number changes whenever either side gets a new key, and the
 * user compared the old one with a person, not a private ID (which a reconnect
 * replaces). So the book keeps the last number shown for each peer after it
 * leaves, by name, in a bounded list, and when a peer of that name is keyed
 * again with another number, or `peerkey` reports a `previousFingerprint`, it
 * says why the number changed. After the page's own reconnect every number is
 * new: "you reconnected".
 */
export const DEMO_PEERS_SCRIPT: string = `// Departed peers remembered; past this many the oldest is forgotten.
export const MAX_DEPARTED = 100;

export class PeerBook {
  // Listed peers by private ID: { name, number, epoch } (epoch: when the number was shown).
  #people = new Map();
  // Peers gone, oldest first: { name, number, epoch, outage } (outage: lost while our connection was down).
  #departed = [];
  // Peers whose safety number changed since the user last moved on from their conversation.
  #changed = new Set();
  // Our own reconnects: a number from an earlier epoch was made with keys this page no longer has.
  #epoch = 0;

  /** Our connection dropped: the numbers shown so far are void once it is back. */
  reconnecting() {
    this.#epoch++;
  }

  /** The name learned for a listed peer, or undefined. */
  nameOf(privateId) {
    return this.#people.get(privateId)?.name;
  }

  /** A peer joined. Returns true when it is one we lost only because our connection dropped. */
  joined(privateId, name) {
    this.#people.set(privateId, { name, number: null, epoch: this.#epoch });
    return this.#departed.some((gone) => gone.name === name && gone.outage);
  }

  /** A peer left (outage: because our own connection dropped). Returns its name, if it was known. */
  left(privateId, outage) {
    const person = this.#people.get(privateId);
    this.#people.delete(privateId);
    this.#changed.delete(privateId);
    if (!person) return undefined;
    this.#departed.push({ ...person, outage });
    if (this.#departed.length > MAX_DEPARTED) this.#departed.shift();
    return person.name;
  }

  renamed(oldPrivateId, newPrivateId) {
    const person = this.#people.get(oldPrivateId);
    this.#people.delete(oldPrivateId);
    if (person) this.#people.set(newPrivateId, person);
    if (this.#changed.delete(oldPrivateId)) this.#changed.add(newPrivateId);
  }

  /**
   * A peer's key (its peerkey event). Returns why its safety number differs from
   * the one shown before ('you reconnected', 'new key', '<name> rejoined'), or ''.
   */
  keyed(privateId, name, fingerprint, previousFingerprint) {
    const person = this.#people.get(privateId) ?? { name, number: null, epoch: this.#epoch };
    this.#people.set(privateId, Object.assign(person, { name }));
    const before = this.#previous(person, previousFingerprint);
    Object.assign(person, { number: fingerprint, epoch: this.#epoch });
    if (!fingerprint || !before?.number || before.number === fingerprint) return '';
    this.#changed.add(privateId);
    return before.epoch < this.#epoch ? 'you reconnected' : before.why;
  }

  /** Whether the peer's safety number changed and the user has not moved on from it since. */
  hasChanged(privateId) {
    return this.#changed.has(privateId);
  }

  /** The user moved on from the peer's conversation: its change has been seen. */
  seen(privateId) {
    this.#changed.delete(privateId);
  }

  // The number the user may have compared: the peer's own previous one, or that of a departed peer of its name.
  #previous(person, previousFingerprint) {
    const own = previousFingerprint ?? person.number;
    if (own) return { number: own, epoch: person.epoch, why: 'new key' };
    const index = this.#departed.findLastIndex((gone) => gone.name === person.name);
    if (index < 0) return null;
    const [gone] = this.#departed.splice(index, 1);
    return { number: gone.number, epoch: gone.epoch, why: person.name + ' rejoined' };
  }
}
`;
