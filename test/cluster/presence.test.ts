import { describe, expect, it } from 'vitest';
import { ClusterPresence, type ClusterPeer } from '../../src/server/cluster/presence.js';

function presence(self = 'me') {
  const pushes: Array<{ text: string; except?: string }> = [];
  const changes: Array<ClusterPeer | null> = [];
  const p = new ClusterPresence(self, {
    announce: (text, except) => pushes.push(except === undefined ? { text } : { text, except }),
    connectPush: (pid, options) => `connect ${pid} ${options}`,
    disconnectPush: (pid) => `disconnect ${pid}`,
    changed: (peer) => changes.push(peer),
  });
  const ids = () => [...p.peers()].map((peer) => `${peer.node}/${peer.privateId}`);
  return { p, pushes, changes, ids };
}

const join = (node: string, pid: string, seq = 1) =>
  ({ kind: 'join', seq, node, pid, options: `{"${pid}":1}`, announce: `connect ${pid}` }) as const;

describe('ClusterPresence', () => {
  it('applies other nodes’ joins, renames and leaves with their own pushes, and skips its own echoes', () => {
    const { p, pushes, ids } = presence();
    p.addOwn('mine', '{}');
    p.apply(join('me', 'mine'));
    p.apply(join('b', 'x'));
    p.apply({ kind: 'rename', seq: 2, node: 'b', from: 'x', to: 'y', announce: 'change x y' });
    p.apply({ kind: 'leave', seq: 3, node: 'b', pid: 'y', announce: 'disconnect y' });
    p.apply({ kind: 'leave', seq: 4, node: 'b', pid: 'unknown', announce: 'disconnect unknown' });
    expect(ids()).toEqual(['me/mine']);
    expect(pushes.map((push) => push.text)).toEqual(['connect x', 'change x y', 'disconnect y']);
  });

  it('renames move a peer to the end of the list and are announced except to the renamed session', () => {
    const { p, pushes, ids } = presence();
    p.apply(join('b', 'x'));
    p.apply(join('b', 'z'));
    p.apply({ kind: 'rename', seq: 3, node: 'b', from: 'x', to: 'w', announce: 'change' });
    expect(ids()).toEqual(['b/z', 'b/w']);
    expect(pushes.at(-1)).toEqual({ text: 'change', except: 'w' });
    expect(p.get('w')).toEqual({ privateId: 'w', node: 'b', optionsJson: '{"x":1}' });
  });

  it('a reaped node’s sessions leave with pushes the node builds; its own reaping keeps its sessions', () => {
    const { p, pushes, ids } = presence();
    p.addOwn('mine', '{}');
    p.apply(join('b', 'x'));
    p.apply(join('c', 'y'));
    p.apply({ kind: 'reaped', seq: 9, node: 'c', dead: 'b', pids: ['x'] });
    p.apply({ kind: 'reaped', seq: 10, node: 'c', dead: 'me', pids: ['mine'] });
    expect(ids()).toEqual(['me/mine', 'c/y']);
    expect(pushes.at(-1)).toEqual({ text: 'disconnect x' });
  });

  it('a node’s sync announces only what differs from what this node knew', () => {
    const { p, pushes, ids } = presence();
    p.apply(join('b', 'x'));
    p.apply(join('b', 'y'));
    pushes.length = 0;
    p.apply({
      kind: 'sync',
      seq: 5,
      node: 'b',
      sessions: [
        ['x', '{"x":1}'],
        ['z', '{}'],
      ],
    });
    expect(ids()).toEqual(['b/x', 'b/z']);
    expect(pushes.map((push) => push.text)).toEqual(['disconnect y', 'connect z {}']);
  });

  it('a snapshot replaces the nodes it lists and keeps nodes it does not know yet', () => {
    const { p, pushes, ids } = presence();
    p.addOwn('mine', '{}');
    p.apply(join('b', 'x'));
    p.apply(join('c', 'y'));
    pushes.length = 0;
    p.resync({
      seq: 20,
      nodes: ['me', 'b', 'd'],
      sessions: [
        { pid: 'mine', node: 'me', optionsJson: '{}' },
        { pid: 'w', node: 'd', optionsJson: '{}' },
      ],
    });
    // b is alive with no sessions; c is not in the snapshot at all (it may not have registered again yet).
    expect(ids()).toEqual(['me/mine', 'c/y', 'd/w']);
    expect(pushes.map((push) => push.text)).toEqual(['disconnect x', 'connect w {}']);
    expect([...p.nodes].sort()).toEqual(['c', 'd', 'me']);
  });

  it('a session that moved to another node is announced as leaving and joining again', () => {
    const { p, pushes, ids } = presence();
    p.apply(join('b', 'x'));
    pushes.length = 0;
    p.apply(join('c', 'x', 2));
    expect(ids()).toEqual(['c/x']);
    expect(pushes.map((push) => push.text)).toEqual(['disconnect x', 'connect x']);
  });

  it('a leave without a push (its node drains) still tells local sessions, with a push built here', () => {
    const { p, pushes } = presence();
    p.apply(join('b', 'x'));
    p.apply({ kind: 'leave', seq: 2, node: 'b', pid: 'x', announce: '' });
    expect(pushes.at(-1)).toEqual({ text: 'disconnect x' });
  });

  it('reports appends as the peer and everything else as a rebuild', () => {
    const { p, changes } = presence();
    p.apply(join('b', 'x'));
    p.apply({ kind: 'leave', seq: 2, node: 'b', pid: 'x', announce: '' });
    expect(changes).toEqual([{ privateId: 'x', node: 'b', optionsJson: '{"x":1}' }, null]);
  });
});
