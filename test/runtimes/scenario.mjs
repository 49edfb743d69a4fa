// The core scenario, runtime-neutral: run by Bun and Deno (test/runtimes/runtimes.test.ts) against
// the reference server at the URL given as the first argument. Two clients connect (one
// handshakes over HTTP with fetch, one over the socket), broadcast, send a direct message, change a
// private ID and disconnect, each step waiting for the other side to see it. Prints one JSON
// line with what each side saw; any failure throws, so the runtime exits non-zero.
import { WSSClient } from 'wss-sessions';

const STEP_TIMEOUT_MS = 10_000;
const args = globalThis.Deno ? globalThis.Deno.args : globalThis.process.argv.slice(2);
const [url, httpUrl] = args;

/** The first `event` from `client` that `match` accepts; rejects naming the step when none comes. */
function next(client, event, step, match = () => true) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off(event, listener);
      reject(new Error(`${step}: no '${event}' event within ${STEP_TIMEOUT_MS} ms`));
    }, STEP_TIMEOUT_MS);
    const listener = (payload) => {
      if (!match(payload)) return;
      clearTimeout(timer);
      client.off(event, listener);
      resolve(payload);
    };
    client.on(event, listener);
  });
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
