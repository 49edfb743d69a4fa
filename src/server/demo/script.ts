/**
 * The chat demo's browser script (GET /demo/chat.js): plain JavaScript on the
 * package's own browser bundle, no framework. Every string a user or a peer
 * provides reaches the page through `textContent` only.
 * What it knows of peers past their departure is in the peer book (peers.ts).
 */
export const DEMO_SCRIPT: string = `import { SecureSession } from '/lib/secure.js';
import { PeerBook } from '/demo/peers.js';

const $ = (id) => document.getElementById(id);
const MAX_TEXT = 2000;
const MAX_NAME = 40;
// Lines the log keeps; the oldest go first.
const MAX_LINES = 500;

let session = null;
let selected = '';
// The name of the peer whose conversation was open when our connection dropped: it opens again when that peer is back.
let resume = '';
let book = new PeerBook();

const shortId = (id) => (id.length > 12 ? id.slice(0, 8) + '…' : id);
const nameOf = (options) =>
  options && typeof options.name === 'string' && options.name.trim() ? options.name.trim().slice(0, MAX_NAME) : 'anonymous';
const peerName = (id) => book.nameOf(id) ?? shortId(id);

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function addLine(kind, meta, text, attrs = {}) {
  const li = el('li');
  li.dataset.kind = kind;
  for (const [key, value] of Object.entries(attrs)) li.dataset[key] = String(value);
  if (meta) li.append(el('span', 'meta', meta));
  if ('encrypted' in attrs) {
    const badge = el('span', 'badge', attrs.encrypted ? 'encrypted' : 'plaintext');
    if (!attrs.encrypted) badge.dataset.plain = '';
    li.append(badge);
  }
  li.append(document.createTextNode(text));
  const log = $('log');
  log.append(li);
  while (log.childElementCount > MAX_LINES) log.firstElementChild.remove();
  log.scrollTop = log.scrollHeight;
}

const note = (text) => addLine('note', '', text);

function renderState(state, detail = '') {
  const node = $('state');
  node.dataset.state = state;
  node.textContent = detail ? state + ' (' + detail + ')' : state;
  const id = session?.privateId;
  $('me').hidden = !session;
  $('send').disabled = state !== 'connected';
  $('me-id').textContent = id ? shortId(id) : '';
  $('me-id').title = id ? 'Your private ID: ' + id : '';
}

function peerItem(peer) {
  const li = el('li');
  li.dataset.pid = peer.privateId;
  const button = el('button', 'peer');
  button.type = 'button';
  button.setAttribute('aria-pressed', String(peer.privateId === selected));
  button.append(
    el('span', 'peer-name', nameOf(peer.options)),
    el('span', 'peer-id', shortId(peer.privateId)),
    el('span', 'peer-lock', peer.usable && peer.fingerprint ? 'end-to-end encrypted' : 'no usable key'),
  );
  if (peer.fingerprint) button.append(el('span', 'peer-safety', peer.fingerprint));
  if (book.hasChanged(peer.privateId)) button.append(el('span', 'peer-changed', 'Safety number changed: compare again'));
  button.addEventListener('click', () => select_(peer.privateId === selected ? '' : peer.privateId));
  li.append(button);
  return li;
}

function renderPeers() {
  const list = $('peers');
  const peers = session ? [...session.peers.values()] : [];
  if (selected && !peers.some((p) => p.privateId === selected)) selected = '';
  // The list is drawn anew: keep the keyboard focus on the peer it was on.
  const focused = list.contains(document.activeElement) ? document.activeElement.closest('li')?.dataset.pid : undefined;
  list.replaceChildren(...peers.map(peerItem));
  if (focused) [...list.children].find((li) => li.dataset.pid === focused)?.firstChild.focus();
  const options = peers.map((p) => new Option(nameOf(p.options) + ' (' + shortId(p.privateId) + ')', p.privateId));
  $('to').replaceChildren(new Option('Everyone', ''), ...options);
  $('to').value = selected;
  $('peer-count').textContent = String(peers.length);
  renderConversation();
}

function select_(privateId) {
  if (privateId !== selected) book.seen(selected);
  selected = privateId;
  renderPeers();
}

function renderConversation() {
  if (!session) return;
  const box = $('conversation');
  const peer = selected ? session.peers.get(selected) : undefined;
  const number = peer?.fingerprint ?? '';
  if (selected) {
    const secure = Boolean(peer?.usable && number);
    box.dataset.encrypted = String(secure);
    $('conversation-label').textContent = (secure ? 'End-to-end encrypted with ' : 'Not encrypted with ') + peerName(selected) + '.';
  } else {
    const usable = [...session.peers.values()].filter((p) => p.usable).length;
    box.dataset.encrypted = String(session.encrypted);
    $('conversation-label').textContent = 'To everyone: end-to-end encrypted for each of ' + usable + ' peer' + (usable === 1 ? '' : 's') + '.';
  }
  $('conversation-number').hidden = !number;
  $('conversation-safety').textContent = number;
  $('conversation-changed').hidden = !(number && book.hasChanged(selected));
}

function onPeerConnect({ privateId, options }) {
  const name = nameOf(options);
  if (resume && name === resume) [selected, resume] = [privateId, ''];
  // Back after our reconnect: the safety-number notice that follows says what matters.
  if (!book.joined(privateId, name)) note(name + ' joined.');
  renderPeers();
}

function onPeerDisconnect({ privateId }) {
  // While we reconnect every peer is out of reach at once: the reconnect notes say so, not one line each.
  const outage = session.state !== 'connected';
  const name = book.left(privateId, outage) ?? shortId(privateId);
  const open = privateId === selected;
  if (open) selected = '';
  if (open && outage) resume = name;
  if (!outage) note(name + ' left.' + (open ? ' Your messages go to everyone now.' : ''));
  renderPeers();
}

function onPeerPid({ oldPrivateId, newPrivateId }) {
  book.renamed(oldPrivateId, newPrivateId);
  if (selected === oldPrivateId) selected = newPrivateId;
  renderPeers();
}

function onPeerKey({ privateId, fingerprint, previousFingerprint }) {
  const peer = session.peers.get(privateId);
  const name = peer ? nameOf(peer.options) : peerName(privateId);
  const why = book.keyed(privateId, name, fingerprint, previousFingerprint);
  if (why) addLine('safety', '', 'Safety number with ' + name + ' changed (' + why + '): compare again.');
  renderPeers();
}

function onMessage({ type, from, data, encrypted }) {
  const text = data && typeof data.text === 'string' ? data.text.slice(0, MAX_TEXT) : '(a message that is not text)';
  addLine('message', peerName(from) + (type === 'direct' ? ' → you' : ' → everyone'), text, { type, encrypted, from });
}

function onState({ state }) {
  if (state === 'reconnecting') book.reconnecting();
  renderState(state);
  renderPeers();
}

function plural(count, word) {
  return count + ' ' + word + (count === 1 ? '' : 's');
}

// Listens to s for as long as it is the page's session.
function listen(s) {
  const on = (event, handler) => s.on(event, (payload) => s === session && handler(payload));
  on('state', onState);
  on('privateid', () => renderState(s.state));
  on('reconnecting', ({ attempt, delay }) => {
    renderState('reconnecting', 'attempt ' + attempt);
    note('Connection lost; reconnecting in ' + delay + ' ms (attempt ' + attempt + ').');
  });
  on('reconnected', ({ attempts }) =>
    note('Reconnected after ' + plural(attempts, 'attempt') + '. You have new keys, so every safety number changed.'),
  );
  on('reconnect_failed', () => note('Could not reconnect. Reload the page to try again.'));
  on('peerconnect', onPeerConnect);
  on('peerdisconnect', onPeerDisconnect);
  on('peerpid', onPeerPid);
  on('peerkey', onPeerKey);
  on('message', onMessage);
  on('decrypt_error', ({ reason, from }) => note('A message from ' + peerName(from) + ' was dropped (' + reason + ').'));
  on('error', (error) => note('Error: ' + error.message));
}

async function join(name) {
  const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/';
  const reconnect = { interval: 500, maxInterval: 5000 };
  session = new SecureSession({ url, connectOptions: { name }, info: 'wss-sessions/chat-demo', reconnect });
  listen(session);
  $('me-name').textContent = name;
  renderState('connecting');
  await session.connect();
  $('join').hidden = true;
  $('chat').hidden = false;
  renderState(session.state);
  renderPeers();
  $('text').focus();
}

function forget() {
  session = null;
  selected = '';
  resume = '';
  book = new PeerBook();
}

async function send(text) {
  const to = selected;
  if (to) await session.send(to, { text });
  else await session.broadcast({ text });
  const meta = 'you → ' + (to ? peerName(to) : 'everyone');
  addLine('message', meta, text, { type: to ? 'direct' : 'broadcast', mine: true, encrypted: session.encrypted });
}

$('join').addEventListener('submit', (event) => {
  event.preventDefault();
  const name = $('name').value.trim().slice(0, MAX_NAME);
  if (!name || session) return;
  $('join-button').disabled = true;
  join(name).catch((error) => {
    forget();
    $('join-button').disabled = false;
    renderState('disconnected', error.message);
  });
});

$('compose').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = $('text');
  const text = input.value.trim().slice(0, MAX_TEXT);
  if (!text || !session) return;
  input.value = '';
  send(text).catch((error) => note('Not sent: ' + error.message));
});

$('to').addEventListener('change', (event) => select_(event.target.value));

$('leave').addEventListener('click', () => {
  const leaving = session;
  forget();
  leaving.disconnect().finally(() => {
    $('chat').hidden = true;
    $('join').hidden = false;
    $('join-button').disabled = false;
    $('log').replaceChildren();
    renderState('disconnected');
  });
});
`;
