// The reference server for the pending-requests benchmark (bench/core.mjs, P2),
// in its own process: on 'hold N' it withholds the next N responses (frames
// with an `id`) through its outgoing hook, so that N requests stay pending in
// the client, and says so twice: {"armed":N} at once, {"held":N} once the N-th
// response was withheld. Prints its address as one JSON line first; stops on
// 'stop' or SIGTERM.
import { createServer } from '../dist/esm/server.js';

const say = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);

let toHold = 0;
let holding = 0;

/** Withholds responses while some are to be held; pushes (no `id`) and everything else pass. */
function outgoing(frame) {
  if (toHold === 0 || JSON.parse(frame).id === undefined) return frame;
  toHold--;
  if (toHold === 0) say({ held: holding });
  return null;
}

const server = await createServer({ port: 0, hooks: { outgoing } });
say({ url: server.url, httpUrl: server.httpUrl, port: server.port });

const stop = async () => {
  await server.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  for (const line of chunk.split('\n')) {
    const hold = /^hold (\d+)$/.exec(line.trim());
    if (hold) {
      toHold = holding = Number(hold[1]);
      say({ armed: holding });
    } else if (line.trim() === 'stop') stop();
  }
});
