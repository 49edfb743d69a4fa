/**
 * The chat demo's static page and style sheet. The page holds no user data:
 * everything a user or peer provides is put in by demo.js with `textContent`.
 */

/** GET / */
export const DEMO_HTML: string = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/demo/chat.css">
<title>wss-sessions chat</title>
<script type="module" src="/demo/chat.js"></script>
</head>
<body>
<header>
  <h1>wss-sessions chat</h1>
  <p id="status"><span id="state" data-state="disconnected">disconnected</span>
    <span id="me" hidden>You are <strong id="me-name"></strong> <span id="me-id"></span></span></p>
</header>
<main>
  <form id="join">
    <label for="name">Your name</label>
    <input id="name" name="name" maxlength="40" autocomplete="off" required placeholder="e.g. Ann">
    <button id="join-button" type="submit">Join</button>
    <p class="hint">Messages are end-to-end encrypted between browsers (SecureSession); the server only relays ciphertext.
    Open this page in a second window to chat with yourself.</p>
  </form>
  <section id="chat" hidden>
    <aside aria-labelledby="online">
      <h2 id="online">Online <span id="peer-count">0</span></h2>
      <p class="hint">Choose someone to write to them alone and to see your safety number with them.</p>
      <ul id="peers"></ul>
      <button id="leave" type="button">Leave</button>
    </aside>
    <div class="conversation">
      <h2 class="visually-hidden">Conversation</h2>
      <ol id="log" aria-live="polite" aria-label="Messages" tabindex="0"></ol>
      <p id="conversation" data-encrypted="false">
        <span id="conversation-label"></span>
        <span id="conversation-number" hidden>Safety number <span id="conversation-safety"></span>
          <strong id="conversation-changed" hidden>changed: compare again</strong></span>
      </p>
      <form id="compose">
        <label for="to" class="visually-hidden">Recipient</label>
        <select id="to"><option value="">Everyone</option></select>
        <label for="text" class="visually-hidden">Message</label>
        <input id="text" name="text" maxlength="2000" autocomplete="off" placeholder="Message" required>
        <button id="send" type="submit">Send</button>
      </form>
    </div>
  </section>
</main>
</body>
</html>
`;

/**
 * GET /demo/chat.css. One column below 720 px; above it the peer list takes a
 * column wide enough for a safety number on one line and the conversation the
 * rest of the window, filling its height so the log scrolls, not the page.
 */
export const DEMO_CSS: string = `
:root { font-family: system-ui, sans-serif; color: #1d2330; background: #f4f6fa; }
*, *::before, *::after { box-sizing: border-box; }
body { margin: 0; padding: 12px 16px; display: flex; flex-direction: column; gap: 12px; }
header { display: flex; flex-wrap: wrap; align-items: baseline; justify-content: space-between; gap: 4px 16px; }
h1 { font-size: 1.3rem; margin: 0; }
h2 { font-size: 1rem; margin: 0 0 8px; }
#status { margin: 0; }
#state { padding: 2px 8px; border-radius: 10px; background: #ccd; font-size: .85rem; }
#state[data-state="connected"] { background: #bfe8c8; }
#state[data-state="reconnecting"], #state[data-state="connecting"] { background: #f7e3a3; }
#me-id { color: #4a5060; font-size: .8rem; font-family: ui-monospace, monospace; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
form#join:not([hidden]) { background: #fff; padding: 16px; border-radius: 8px; display: grid; gap: 8px; max-width: 30rem; }
.hint { color: #4a5060; font-size: .85rem; margin: 0 0 8px; }
#chat:not([hidden]) { display: grid; grid-template-columns: minmax(0, 1fr); gap: 12px; }
aside, .conversation { min-width: 0; background: #fff; border-radius: 8px; padding: 12px; }
.conversation { display: flex; flex-direction: column; }
#peers { list-style: none; margin: 0 0 12px; padding: 0; max-height: 30vh; overflow-y: auto; }
.peer { display: block; width: 100%; text-align: left; border: 0; border-left: 3px solid transparent; border-radius: 6px; background: none; padding: 6px; color: inherit; }
.peer:hover { background: #f0f3f9; }
.peer[aria-pressed="true"] { background: #e3e9f6; border-left-color: #2b5fb8; }
.peer-name { font-weight: 600; overflow-wrap: anywhere; }
.peer-id, .peer-lock, .peer-safety, .peer-changed { display: block; font-size: .75rem; color: #4a5060; }
.peer-id, .peer-safety, #conversation-safety { font-family: ui-monospace, monospace; white-space: nowrap; }
.peer-changed, #conversation-changed { color: #8a1f1f; font-weight: 600; }
#log { list-style: none; margin: 0; padding: 0 4px 0 0; height: 45vh; min-height: 12rem; overflow-y: auto; overflow-wrap: anywhere; border-bottom: 1px solid #e3e6ee; }
#log li { padding: 4px 0; }
#log .meta { color: #4a5060; font-size: .8rem; margin-right: 6px; }
#log li[data-kind="note"] { color: #6b5000; font-style: italic; }
#log li[data-kind="safety"] { color: #8a1f1f; font-weight: 600; background: #fdf0f0; padding: 4px 6px; border-radius: 4px; }
#log li[data-mine="true"] .meta { color: #2b5fb8; }
.badge { font-size: .7rem; padding: 1px 6px; border-radius: 8px; margin-right: 6px; background: #bfe8c8; color: #17692f; }
.badge[data-plain] { background: #f7d0d0; color: #8a1f1f; }
#conversation { display: flex; flex-wrap: wrap; gap: 2px 12px; font-size: .85rem; color: #4a5060; margin: 8px 0; }
#conversation[data-encrypted="true"] #conversation-label { color: #17692f; }
#compose { display: flex; flex-wrap: wrap; gap: 8px; }
#to { flex: 0 1 14rem; min-width: 0; }
#text { flex: 1 1 12rem; min-width: 0; }
input, select, button { font: inherit; padding: 6px 8px; }
:focus-visible { outline: 2px solid #2b5fb8; outline-offset: 2px; }
@media (min-width: 720px) {
  body { height: 100vh; }
  main, #chat:not([hidden]) { flex: 1; min-height: 0; }
  main { display: flex; flex-direction: column; }
  #chat:not([hidden]) { grid-template: minmax(0, 1fr) / minmax(19rem, 24rem) minmax(0, 1fr); gap: 16px; }
  aside, .conversation { min-height: 0; }
  aside { display: flex; flex-direction: column; }
  #leave { align-self: flex-start; }
  #peers { max-height: none; flex: 0 1 auto; }
  #log { flex: 1; height: auto; }
}
`;
