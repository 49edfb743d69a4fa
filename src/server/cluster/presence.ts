/**
 * The cluster's presence as one node knows it: every session's private ID,
 * its node and its connect options, in the order the node learnt of them.
 * It changes through this node's own steps (applied at once) and through the
 * presence events of the bus; each change hands the push it means to the
 * node's local sessions, so a local session hears of every change made after
 * it joined, once. A whole snapshot from Redis can replace the picture (after
 * the node was cut off): the differences are announced like events.
 */
import type { PresenceEvent } from './bus.js';
import type { Snapshot } from './store.js';

/** A session of the cluster. */
export interface ClusterPeer {
  readonly privateId: string;
  readonly node: string;
  readonly optionsJson: string;
}

/** Where presence changes go. */
export interface PresenceOutput {
  /** Hands a push (frame text) to every local session except `except`. */
  announce(text: string, except?: string): void;
  /** The pushes a node builds itself, for changes that reach it without one (a reaped node, a snapshot). */
  connectPush(privateId: string, optionsJson: string): string;
  disconnectPush(privateId: string): string;
  /** A peer was appended (`peer`), or the list changed otherwise (`null`: rebuild it). */
  changed(peer: ClusterPeer | null): void;
}

/** The presence of the cluster, by private ID and by node. */
export class ClusterPresence {
  readonly #self: string;
  readonly #out: PresenceOutput;
  readonly #peers = new Map<string, ClusterPeer>();
  readonly #byNode = new Map<string, Set<string>>();

  constructor(self: string, output: PresenceOutput) {
    this.#self = self;
    this.#out = output;
  }

  get size(): number {
    return this.#peers.size;
  }

  get(privateId: string): ClusterPeer | undefined {
    return this.#peers.get(privateId);
  }

  /** Every session, in the order this node learnt of them. */
  peers(): IterableIterator<ClusterPeer> {
    return this.#peers.values();
  }

  /** Nodes that hold sessions. */
  get nodes(): IterableIterator<string> {
    return this.#byNode.keys();
  }

  /** Private IDs held by `node`. */
  sessionsOf(node: string): string[] {
    return [...(this.#byNode.get(node) ?? [])];
  }

  /** This node's own session joined (its `connect` push was delivered by the caller). */
  addOwn(privateId: string, optionsJson: string): void {
    this.#add({ privateId, node: this.#self, optionsJson });
  }

  renameOwn(from: string, to: string): void {
    if (this.#peers.get(from)?.node === this.#self) this.#rename(from, to);
  }

  /** This node's own session left (a private ID another node holds now is left alone). */
  removeOwn(privateId: string): void {
    if (this.#peers.get(privateId)?.node === this.#self) this.#remove(privateId);
  }

  /** Applies another node's event (this node's own events are skipped: they were applied at once). */
  apply(event: PresenceEvent): void {
    switch (event.kind) {
      case 'join':
        if (event.node === this.#self) return;
        this.#drop(event.pid);
        this.#add({ privateId: event.pid, node: event.node, optionsJson: event.options });
        this.#out.announce(event.announce, event.pid);
        return;
      case 'rename':
        if (event.node === this.#self || !this.#peers.has(event.from)) return;
        this.#rename(event.from, event.to);
        this.#out.announce(event.announce, event.to);
        return;
      case 'leave':
        if (event.node === this.#self || !this.#remove(event.pid)) return;
        // A draining node ends its sessions without a push of its own: its peers here still hear of it.
        this.#out.announce(event.announce === '' ? this.#out.disconnectPush(event.pid) : event.announce);
        return;
      case 'reaped':
        if (event.dead !== this.#self) this.dropNode(event.dead);
        return;
      case 'sync':
        if (event.node !== this.#self)
          this.#replaceNode(
            event.node,
            event.sessions.map(([privateId, optionsJson]) => ({ privateId, node: event.node, optionsJson })),
          );
    }
  }

  /** Every session of `node` left (it died): each local session gets a `disconnect` for each. */
  dropNode(node: string): void {
    for (const privateId of this.sessionsOf(node)) this.#drop(privateId);
  }

  /**
   * Takes the sessions of a snapshot for every node it lists, announcing the
   * differences. Nodes without sessions in it keep theirs unless they are
   * among `snapshot.nodes` (alive and empty): a node that has not registered
   * again yet after Redis restarted is not dead for that.
   */
  resync(snapshot: Snapshot): void {
    const grouped = new Map<string, ClusterPeer[]>();
    for (const node of snapshot.nodes) grouped.set(node, []);
    for (const { pid, node, optionsJson } of snapshot.sessions) {
      const peers = grouped.get(node) ?? [];
      peers.push({ privateId: pid, node, optionsJson });
      grouped.set(node, peers);
    }
    grouped.delete(this.#self);
    for (const [node, peers] of grouped) this.#replaceNode(node, peers);
  }

  #replaceNode(node: string, peers: readonly ClusterPeer[]): void {
    const wanted = new Map(peers.map((peer) => [peer.privateId, peer]));
    for (const privateId of this.sessionsOf(node)) {
      const peer = wanted.get(privateId);
      if (peer?.optionsJson !== this.#peers.get(privateId)?.optionsJson) this.#drop(privateId);
    }
    for (const peer of peers) {
      const known = this.#peers.get(peer.privateId);
      if (known?.node === node && known.optionsJson === peer.optionsJson) continue;
      if (known) this.#drop(peer.privateId);
      this.#add(peer);
      this.#out.announce(this.#out.connectPush(peer.privateId, peer.optionsJson), peer.privateId);
    }
  }

  /** Removes a peer and tells local sessions. */
  #drop(privateId: string): void {
    if (this.#remove(privateId)) this.#out.announce(this.#out.disconnectPush(privateId));
  }

  #add(peer: ClusterPeer): void {
    this.#peers.set(peer.privateId, peer);
    let own = this.#byNode.get(peer.node);
    if (!own) {
      own = new Set();
      this.#byNode.set(peer.node, own);
    }
    own.add(peer.privateId);
    this.#out.changed(peer);
  }

  #rename(from: string, to: string): void {
    const peer = this.#peers.get(from);
    if (!peer) return;
    this.#remove(from);
    this.#add({ privateId: to, node: peer.node, optionsJson: peer.optionsJson });
    this.#out.changed(null);
  }

  #remove(privateId: string): boolean {
    const peer = this.#peers.get(privateId);
    if (!peer) return false;
    this.#peers.delete(privateId);
    const own = this.#byNode.get(peer.node);
    own?.delete(privateId);
    if (own?.size === 0) this.#byNode.delete(peer.node);
    this.#out.changed(null);
    return true;
  }
}
