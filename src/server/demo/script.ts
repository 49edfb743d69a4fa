/**
 * The chat demo's browser script (GET /demo/chat.js): plain JavaScript on the
 * package's own browser bundle, no framework. Every string a user or a peer
 * provides reaches the page through `textContent` only.
 */
export const DEMO_SCRIPT: string = `import { SecureSession } from '/lib/secure.js';

const $ = (id) => document.getElementById(id);
const MAX_TEXT = 2000;
let session = null;
let selected = '';

const shortId = (id) => (id.length > 12 ? id.slice(0, 8) + '…' : id);
const nameOf = (options) => (options && typeof options.name === 'string' && options.name.trim() ? options.name.trim().slice(0, 40) : 'anonymous');
const peerName = (id) => {
  const peer = session && session.peers.get(id);
  return peer ? nameOf(peer.options) : shortId(id);
};

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
  log.scrollTop = log.scrollHeight;
}

const note = (text) => addLine('note', '', text);

function renderState(state, detail = '') {
  const node = $('state');
  node.dataset.state = state;
  node.textContent = detail ? state + ' (' + detail + ')' : state;
  $('me').textContent = session && session.privateId ? 'you are ' + shortId(session.privateId) : '';
}

function renderPeers() {
  const list = $('peers');
  const select = $('to');
  const peers = session ? [...session.peers.values()] : [];
  if (selected && !peers.some((p) => p.privateId === selected)) selected = '';
  list.replaceChildren();
  select.replaceChildren(new Option('Everyone', ''));
  for (const peer of peers) {
    const li = el('li');
    li.dataset.pid = peer.privateId;
    li.setAttribute('aria-selected', String(peer.privateId === selected));
    const safety = session.fingerprint(peer.privateId);
    li.append(
      el('span', 'peer-name', nameOf(peer.options)),
      el('span', 'peer-id', shortId(peer.privateId)),
      el('span', 'peer-lock', peer.usable && safety ? 'end-to-end encrypted' : 'no usable key'),
    );
    if (safety) li.append(el('span', 'peer-safety', safety));
    li.addEventListener('click', () => select_(peer.privateId));
    list.append(li);
    select.append(new Option(nameOf(peer.options) + ' (' + shortId(peer.privateId) + ')', peer.privateId));
  }
  select.value = selected;
  $('peer-count').textContent = String(peers.length);
  renderConversation();
}

function select_(privateId) {
  selected = privateId;
  renderPeers();
}

function renderConversation() {
  const box = $('conversation');
  const label = $('conversation-label');
  const safety = $('conversation-safety');
  if (!session) return;
  if (selected) {
    const peer = session.peers.get(selected);
    const number = session.fingerprint(selected);
    const secure = Boolean(peer && peer.usable && number);
    box.dataset.encrypted = String(secure);
    label.textContent = (secure ? 'End-to-end encrypted with ' : 'Not encrypted with ') + peerName(selected) + '.';
    safety.textContent = number ? 'Safety number: ' + number : '';
  } else {
    const usable = [...session.peers.values()].filter((p) => p.usable).length;
    box.dataset.encrypted = String(session.encrypted);
    label.textContent = 'To everyone: end-to-end encrypted for each of ' + usable + ' peer' + (usable === 1 ? '' : 's') + '.';
    safety.textContent = '';
  }
}

function textOf(data) {
  return data && typeof data.text === 'string' ? data.text.slice(0, MAX_TEXT) : '(a message that is not text)';
}

async function join(name) {
  const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/';
  session = new SecureSession({ url, connectOptions: { name }, info: 'wss-sessions/chat-demo', reconnect: { interval: 500, maxInterval: 5000 } });
  session.on('state', ({ state }) => {
    renderState(state);
    renderPeers();
  });
  session.on('reconnecting', ({ attempt, delay }) => {
    renderState('reconnecting', 'attempt ' + attempt);
    note('Connection lost; reconnecting in ' + delay + ' ms (attempt ' + attempt + ').');
  });
  session.on('reconnected', ({ attempts }) => note('Reconnected after ' + attempts + ' attempt' + (attempts === 1 ? '' : 's') + ', with new keys.'));
  session.on('reconnect_failed', () => note('Could not reconnect. Reload the page to try again.'));
  session.on('peerconnect', ({ privateId, options }) => {
    note(nameOf(options) + ' joined.');
    renderPeers();
  });
  session.on('peerdisconnect', ({ privateId }) => {
    note(peerName(privateId) + ' left.');
    renderPeers();
  });
  session.on('peerpid', renderPeers);
  session.on('peerkey', ({ privateId, previousFingerprint }) => {
    if (previousFingerprint) note('The safety number with ' + peerName(privateId) + ' changed.');
    renderPeers();
  });
  session.on('message', ({ type, from, data, encrypted }) => {
    const meta = peerName(from) + (type === 'direct' ? ' → you' : ' → everyone');
    addLine('message', meta, textOf(data), { type, encrypted, from });
  });
  session.on('decrypt_error', ({ reason, from }) => note('A message from ' + peerName(from) + ' was dropped (' + reason + ').'));
  session.on('error', (error) => note('Error: ' + error.message));
  renderState('connecting');
  await session.connect();
  $('join').hidden = true;
  $('chat').hidden = false;
  renderState(session.state);
  renderPeers();
  $('text').focus();
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
  const name = $('name').value.trim().slice(0, 40);
  if (!name || session) return;
  $('join-button').disabled = true;
  join(name).catch((error) => {
    session = null;
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
  session = null;
  selected = '';
  leaving.disconnect().finally(() => {
    $('chat').hidden = true;
    $('join').hidden = false;
    $('join-button').disabled = false;
    $('log').replaceChildren();
    renderState('disconnected');
  });
});
`;
