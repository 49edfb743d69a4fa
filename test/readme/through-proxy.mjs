// Run by readme.test.ts in a consumer folder, with NODE_EXTRA_CA_CERTS naming the test's
// self-signed certificate: clients reach the reference server only through the TLS proxy whose
// wss:// and https:// address is the argument. Two WSSClients connect (one handshakes over HTTPS
// with fetch, one over the socket) and exchange a direct message; /healthz answers through the
// proxy; a browser origin the server does not allow is refused with 403 and an allowed one opens.
// Prints one JSON line; any failure throws, so the process exits non-zero.
import { WSSClient } from 'wss-sessions';
import WebSocket from 'ws';

const [address] = process.argv.slice(2);
const url = `wss://${address}`;
const httpUrl = `https://${address}`;

/** What a WebSocket from `origin` gets: 'open' or the error message (ws names the HTTP status). */
function upgrade(origin) {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, { origin });
    socket.once('open', () => {
      socket.close();
      resolve('open');
    });
    socket.once('error', (error) => resolve(error.message));
  });
}

const a = new WSSClient({ url, handshakeUrl: httpUrl });
const b = new WSSClient({ url });
try {
  await a.connect();
  const received = new Promise((resolve) => a.once('message', resolve));
  await b.connect();
  await b.send(a.privateId, { text: 'through TLS' });
  const message = await received;
  const health = await (await fetch(`${httpUrl}/healthz`)).json();
  console.log(
    JSON.stringify({
      direct: { type: message.type, fromB: message.from === b.privateId, data: message.data },
      health: { status: health.status, sessions: health.sessions },
      allowedOrigin: await upgrade('https://chat.example'),
      otherOrigin: await upgrade('https://elsewhere.example'),
    }),
  );
} finally {
  await Promise.all([a.disconnect(), b.disconnect()]);
}
