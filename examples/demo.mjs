// Three peers talk through the reference server on a free loopback port.
// Run with `npm run demo`. Exits 0 when every step worked, 1 with the reason otherwise.
import { WSSClient } from '../dist/esm/node/index.js';
import { createServer } from '../dist/esm/server.js';

const STEP_TIMEOUT_MS = 5000;
const log = (who, text) => console.log(`${who.padEnd(7)} ${text}`);

/** Resolves with the first `event` payload that matches, or rejects naming what never came. */
function waitFor(client, name, event, match = () => true) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off(event, listener);
      reject(new Error(`${name} never saw the expected '${event}' event`));
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

function check(condition, reason) {
  if (!condition) throw new Error(reason);
}

async function main() {
  const server = await createServer({ port: 0, host: '127.0.0.1' });
  log('server', `listening: WebSocket ${server.url}, HTTP handshake ${server.httpUrl}`);
  const alice = new WSSClient({ url: server.url, handshakeUrl: server.httpUrl });
  const bob = new WSSClient({ url: server.url });
  const carol = new WSSClient({ url: server.url, connectOptions: { nickname: 'carol' } });
  const names = new Map();
  const nameOf = (pid) => names.get(pid) ?? pid.slice(0, 8);
  for (const [name, client] of [
    ['alice', alice],
    ['bob', bob],
    ['carol', carol],
  ]) {
    client.on('message', ({ type, from, data }) =>
      log(name, `got ${type} from ${nameOf(from)}: ${JSON.stringify(data)}`),
    );
  }

  try {
    const a = await alice.connect();
    names.set(a.privateId, 'alice');
    log('alice', `connected (handshake over HTTP) as ${a.privateId.slice(0, 8)}…, peers: ${a.peers.length}`);

    const aliceSeesBob = waitFor(alice, 'alice', 'peerconnect');
    const b = await bob.connect();
    names.set(b.privateId, 'bob');
    log('bob', `connected (handshake over the socket), peers: ${b.peers.map(nameOf).join(', ')}`);
    check((await aliceSeesBob).privateId === b.privateId, 'alice saw a different peer connect than bob');
    log('alice', 'saw bob connect');

    const seesCarol = [waitFor(alice, 'alice', 'peerconnect'), waitFor(bob, 'bob', 'peerconnect')];
    const c = await carol.connect();
    names.set(c.privateId, 'carol');
    check(c.peers.length === 2, `carol should see 2 peers already connected, saw ${c.peers.length}`);
    log('carol', `connected, peers: ${c.peers.map(nameOf).join(', ')}`);
    for (const seen of await Promise.all(seesCarol))
      check(seen.options.nickname === 'carol', "carol's connect options were not relayed");
    log('server', 'alice and bob saw carol connect, with her options');

    const hello = [waitFor(bob, 'bob', 'message'), waitFor(carol, 'carol', 'message')];
    await alice.broadcast({ text: 'hello everyone' });
    await Promise.all(hello);

    // Bob broadcasts without carol, then sends carol a direct message. The server keeps
    // order, so if carol's first message is the direct one, the broadcast skipped her.
    const aliceGetsSecret = waitFor(alice, 'alice', 'message', (m) => m.type === 'broadcast');
    const carolNext = waitFor(carol, 'carol', 'message');
    await bob.broadcast({ text: 'not for carol' }, { exclude: [c.privateId] });
    await bob.send(c.privateId, { text: 'just for you' });
    await aliceGetsSecret;
    check((await carolNext).type === 'direct', 'carol received a broadcast that excluded her');
    log('carol', "was excluded from bob's broadcast");

    const aliceDirect = waitFor(alice, 'alice', 'message', (m) => m.type === 'direct');
    await carol.send([a.privateId], { text: 'hi alice, from carol' });
    await aliceDirect;

    const renames = [waitFor(alice, 'alice', 'peerpid'), waitFor(carol, 'carol', 'peerpid')];
    await bob.setPrivateId('bob-the-builder');
    names.set('bob-the-builder', 'bob');
    for (const r of await Promise.all(renames))
      check(r.newPrivateId === 'bob-the-builder', 'peers saw the wrong new private ID');
    check(alice.peers.has('bob-the-builder') && !alice.peers.has(b.privateId), "alice's peer list missed the rename");
    log('bob', 'changed private ID to bob-the-builder; alice and carol saw it');

    const leaves = [waitFor(alice, 'alice', 'peerdisconnect'), waitFor(bob, 'bob', 'peerdisconnect')];
    await carol.disconnect();
    for (const l of await Promise.all(leaves)) check(l.privateId === c.privateId, 'the wrong peer left');
    check(alice.peers.size === 1 && bob.peers.size === 1, 'peer lists did not shrink after carol left');
    log('carol', 'left; alice and bob saw it');
    console.log('\ndemo: all steps passed');
  } finally {
    await Promise.all([alice.disconnect(), bob.disconnect(), carol.disconnect()]);
    await server.close();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(`\ndemo FAILED: ${error.message}`);
    process.exit(1);
  },
);
