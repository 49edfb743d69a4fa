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
  <p id="status"><span id="state" data-state="disconnected">disconnected</span> <span id="me"></span></p>
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
    <aside>
      <h2>Online <span id="peer-count">0</span></h2>
      <ul id="peers"></ul>
      <button id="leave" type="button">Leave</button>
    </aside>
    <div class="conversation">
      <ol id="log" aria-live="polite"></ol>
      <p id="conversation" data-encrypted="false">
        <span id="conversation-label"></span>
        <span id="conversation-safety" title="Compare this safety number with your peer, out of band"></span>
      </p>
      <form id="compose">
        <select id="to" aria-label="Recipient"><option value="">Everyone</option></select>
        <input id="text" name="text" maxlength="2000" autocomplete="off" placeholder="Message" required>
        <button id="send" type="submit">Send</button>
      </form>
    </div>
  </section>
</main>
</body>
</html>
`;

/** GET /demo/chat.css */
export const DEMO_CSS: string = `
:root { font-family: system-ui, sans-serif; color: #1d2330; background: #f4f6fa; }
body { margin: 0 auto; max-width: 960px; padding: 16px; }
header { display: flex; align-items: baseline; justify-content: space-between; gap: 16px; }
h1 { font-size: 1.3rem; margin: 0 0 12px; }
h2 { font-size: 1rem; margin: 0 0 8px; }
#state { padding: 2px 8px; border-radius: 10px; background: #ccd; font-size: .85rem; }
#state[data-state="connected"] { background: #bfe8c8; }
#state[data-state="reconnecting"], #state[data-state="connecting"] { background: #f7e3a3; }
#me { color: #556; font-size: .85rem; }
form#join:not([hidden]) { background: #fff; padding: 16px; border-radius: 8px; display: grid; gap: 8px; max-width: 420px; }
.hint { color: #556; font-size: .85rem; margin: 0; }
#chat:not([hidden]) { display: grid; grid-template-columns: 260px 1fr; gap: 16px; }
aside, .conversation { min-width: 0; overflow-wrap: anywhere; background: #fff; border-radius: 8px; padding: 12px; }
#peers { list-style: none; margin: 0 0 12px; padding: 0; }
#peers li { padding: 6px; border-radius: 6px; cursor: pointer; }
#peers li:hover, #peers li[aria-selected="true"] { background: #e8edf7; }
.peer-name { font-weight: 600; }
.peer-id, .peer-lock, .peer-safety { display: block; font-size: .75rem; color: #556; }
.peer-safety { font-family: ui-monospace, monospace; }
#log { list-style: none; margin: 0; padding: 0; height: 320px; overflow-y: auto; border-bottom: 1px solid #e3e6ee; }
#log li { padding: 4px 0; }
#log .meta { color: #556; font-size: .8rem; margin-right: 6px; }
#log li[data-kind="note"] { color: #7a5b00; font-style: italic; }
#log li[data-mine="true"] .meta { color: #2b5fb8; }
.badge { font-size: .7rem; padding: 1px 6px; border-radius: 8px; margin-right: 6px; background: #bfe8c8; color: #17692f; }
.badge[data-plain] { background: #f7d0d0; color: #8a1f1f; }
#conversation { font-size: .85rem; color: #556; margin: 8px 0; }
#conversation[data-encrypted="true"] #conversation-label { color: #17692f; }
#conversation-safety { font-family: ui-monospace, monospace; margin-left: 6px; }
#compose { display: flex; gap: 8px; }
#text { flex: 1; }
input, select, button { font: inherit; padding: 6px 8px; }
`;
