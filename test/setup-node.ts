// The tests import the sources, as the Node entry points do: with Node's base64 and `ws` (src/node/setup.ts).
import '../src/node/setup.js';
