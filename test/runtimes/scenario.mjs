// The core scenario, runtime-neutral: run by Bun and Deno (test/runtimes/runtimes.test.ts) against
// the reference server whose WebSocket and HTTP URLs are its arguments. Two clients connect (one
// handshakes over HTTP with fetch, one over the socket), broadcast, send a direct message, change a
// private ID and disconnect, each step waiting for the other side to see it. Prints one JSON
// line with what each side saw; any failure throws, so the runtime exits non-zero.
import { WSSClient } from 'wss-sessions';

const args = globalThis.Deno ? globalThis.Deno.args : globalThis.process.argv.slice(2);
const [url, httpUrl] = args;

/**
 * The next `event` from `client`. Each step first names itself on stderr, so when the test's
 * time limit stops a run that waits forever, its output says which step never finished.
 */
function next(client, event, step) {
  console.error(`step: ${step} (waiting for '${event}')`);
  return new Promise((resolve) => client.once(event, resolve));
}

const a = new WSSClient({ url, handshakeUrl: httpUrl });
const b = new WSSClient({ url, connectOptions: { name: 'b' } });
try {
  const first = await a.connect();
  const joined = next(a, 'peerconnect', 'connect');
  const second = await b.connect();
  const seenJoin = await joined;

  const broadcast = next(b, 'message', 'broadcast');
  await a.broadcast({ text: 'to everyone' });
  const seenBroadcast = await broadcast;

  const direct = next(a, 'message', 'direct');
  await b.send(first.privateId, { text: 'to a' });
  const seenDirect = await direct;

  const renamed = next(a, 'peerpid', 'setPrivateId');
  await b.setPrivateId('b-renamed');
  const seenRename = await renamed;

  const left = next(a, 'peerdisconnect', 'disconnect');
  await b.disconnect();
  const seenLeave = await left;
  await a.disconnect();

  console.log(
    JSON.stringify({
      runtime: navigator.userAgent,
      peersWhenBJoined: second.peers.length,
      join: { sameId: seenJoin.privateId === second.privateId, options: seenJoin.options },
      broadcast: { type: seenBroadcast.type, fromA: seenBroadcast.from === first.privateId, data: seenBroadcast.data },
      direct: { type: seenDirect.type, fromB: seenDirect.from === second.privateId, data: seenDirect.data },
      rename: { from: seenRename.oldPrivateId === second.privateId, to: seenRename.newPrivateId },
      leave: seenLeave.privateId,
      states: [a.state, b.state],
      peersLeft: a.peers.size,
    }),
  );
} finally {
  await Promise.all([a.disconnect(), b.disconnect()]);
}
