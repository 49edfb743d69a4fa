/**
 * The chat demo that `wss-sessions serve` shows at its HTTP address, driven in Chromium: people
 * in separate browser contexts join under their names, see each other join and leave by name,
 * chat to everyone and to one person end-to-end encrypted with the same safety number at both
 * ends, are told when a reconnect changed that number, and get a layout that fits 400 px and uses
 * 1400 px. Names and messages are shown as text, never as markup.
 *
 * The screenshot in docs/chat-demo.png comes from this test: it is written when the file is
 * missing or WSS_UPDATE_SCREENSHOT=1 is set, so ordinary runs leave the work tree unchanged.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { ROOT, useBrowserSuite } from './harness.js';

const SCREENSHOT = join(ROOT, 'docs/chat-demo.png');
/** A name that would run script if it were ever put into the page as HTML. */
const HOSTILE_NAME = 'Eve <img src=x onerror="window.pwned=1">';
const SAFETY_NUMBER = /^\d{5}( \d{5}){5}$/;

/** The demo is served by the reference server itself, so no asset server. */
const suite = useBrowserSuite({ pages: null });

async function joinChat(name: string, viewport = { width: 980, height: 640 }): Promise<Page> {
  const { page } = await suite.open(`${suite.server.httpUrl}/`);
  await page.setViewportSize(viewport);
  await page.fill('#name', name);
  await page.click('#join-button');
  await page.waitForSelector('#chat:not([hidden])');
  await page.waitForSelector('#state[data-state="connected"]');
  return page;
}

async function say(page: Page, to: string, text: string): Promise<void> {
  await page.selectOption('#to', to);
  await page.fill('#text', text);
  await page.click('#send');
}

/** Waits for a message line whose text contains `text`, and returns its meta text and data attributes. */
async function waitForLine(page: Page, text: string) {
  const line = page.locator('#log li[data-kind="message"]', { hasText: text }).last();
  await line.waitFor();
  return {
    meta: await line.locator('.meta').textContent(),
    type: await line.getAttribute('data-type'),
    encrypted: await line.getAttribute('data-encrypted'),
  };
}

/** Waits for a log line of `kind` whose whole text is `text`. */
async function waitForExactLine(page: Page, kind: 'note' | 'safety', text: string): Promise<void> {
  await page.waitForFunction(
    ({ kind, text }) =>
      [...document.querySelectorAll(`#log li[data-kind="${kind}"]`)].some((li) => li.textContent === text),
    { kind, text },
  );
}

/** Private ID of the listed peer called `name` (waits until it is listed). */
async function peerId(page: Page, name: string): Promise<string> {
  const exactly = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
  const item = page.locator('#peers li', { has: page.locator('.peer-name', { hasText: exactly }) });
  await item.waitFor();
  return (await item.getAttribute('data-pid')) ?? '';
}

/** Opens the conversation with `privateId` and reads the safety number shown for it. */
async function safetyNumberWith(page: Page, privateId: string): Promise<string> {
  await page.selectOption('#to', privateId);
  await page.waitForSelector('#conversation[data-encrypted="true"] #conversation-number:not([hidden])');
  return (await page.textContent('#conversation-safety')) ?? '';
}

describe('the chat demo at GET /', () => {
  it('shows the chosen name, and chats to everyone and to one person with one safety number at both ends', async () => {
    const ann = await joinChat('Ann', { width: 1200, height: 720 });
    const bob = await joinChat('Bob');
    const carol = await joinChat('Carol');
    const bobId = await peerId(ann, 'Bob');
    const annId = await peerId(bob, 'Ann');
    await peerId(ann, 'Carol');
    expect(suite.server.sessions.length).toBe(3);
    expect(suite.server.sessions).toEqual(expect.arrayContaining([annId, bobId]));

    expect(await ann.textContent('#me-name')).toBe('Ann');
    expect(await ann.isVisible('#me')).toBe(true);
    expect((await ann.textContent('#me'))?.replace(/\s+/g, ' ').trim()).toBe(`You are Ann ${annId.slice(0, 8)}…`);
    expect(await ann.getAttribute('#me-id', 'title')).toBe(`Your private ID: ${annId}`);

    await say(ann, '', 'Hello everyone');
    expect(await waitForLine(bob, 'Hello everyone')).toEqual({
      meta: 'Ann → everyone',
      type: 'broadcast',
      encrypted: 'true',
    });
    await waitForLine(carol, 'Hello everyone');

    await say(bob, annId, 'Hi Ann, just you');
    expect(await waitForLine(ann, 'just you')).toEqual({ meta: 'Bob → you', type: 'direct', encrypted: 'true' });
    await say(carol, '', 'Morning both! Release notes are in the shared folder.');
    await waitForLine(ann, 'Morning both');
    await say(bob, '', 'Thanks Carol, reading them now.');
    await waitForLine(ann, 'reading them now');
    await say(ann, bobId, 'Hi Bob, privately');
    expect(await waitForLine(bob, 'privately')).toEqual({ meta: 'Ann → you', type: 'direct', encrypted: 'true' });

    // The peer list works from the keyboard (a peer is a toggle: Ann is writing to Bob already),
    // and keeps the focus where it was when it is redrawn.
    const bobButton = `#peers li[data-pid="${bobId}"] button`;
    const focusedPeer = () => ann.evaluate(() => document.activeElement?.closest('li')?.dataset.pid);
    expect(await ann.inputValue('#to')).toBe(bobId);
    await ann.focus(bobButton);
    await ann.keyboard.press('Enter');
    expect([await ann.inputValue('#to'), await ann.getAttribute(bobButton, 'aria-pressed')]).toEqual(['', 'false']);
    expect(await focusedPeer()).toBe(bobId);
    await ann.keyboard.press('Space');
    expect([await ann.inputValue('#to'), await ann.getAttribute(bobButton, 'aria-pressed')]).toEqual([bobId, 'true']);
    expect(await focusedPeer()).toBe(bobId);

    const annSafety = await safetyNumberWith(ann, bobId);
    const bobSafety = await safetyNumberWith(bob, annId);
    expect(annSafety).toMatch(SAFETY_NUMBER);
    expect(bobSafety).toBe(annSafety);
    expect(await ann.textContent('#conversation-label')).toBe('End-to-end encrypted with Bob.');
    expect(await ann.textContent(`#peers li[data-pid="${bobId}"] .peer-safety`)).toBe(annSafety);
    expect(await ann.getAttribute(`#peers li[data-pid="${bobId}"] button`, 'aria-pressed')).toBe('true');
    await ann.focus('#text');
    await writeScreenshot(ann);
  });

  it('names people in join and leave lines, and shows markup in names and messages as text', async () => {
    const ann = await joinChat('Ann');
    const bob = await joinChat('Bob');
    await waitForExactLine(ann, 'note', 'Bob joined.');
    const eve = await joinChat(HOSTILE_NAME);
    for (const page of [ann, bob]) await waitForExactLine(page, 'note', `${HOSTILE_NAME} joined.`);
    await say(eve, '', '<img src=y onerror="window.pwned=2"> <b>not bold</b>');
    await waitForLine(bob, 'window.pwned=2');
    await waitForLine(ann, '<b>not bold</b>');

    // Eve leaves with the button, Bob by closing his window: both leave lines carry the name.
    // Ann was writing to Eve alone: she is told that her messages go to everyone now.
    await ann.selectOption('#to', await peerId(ann, HOSTILE_NAME));
    await eve.click('#leave');
    await eve.waitForSelector('#join:not([hidden])');
    await waitForExactLine(bob, 'note', `${HOSTILE_NAME} left.`);
    await waitForExactLine(ann, 'note', `${HOSTILE_NAME} left. Your messages go to everyone now.`);
    expect(await ann.inputValue('#to')).toBe('');
    expect(await eve.isHidden('#me')).toBe(true);
    await bob.context().close();
    await waitForExactLine(ann, 'note', 'Bob left.');
    expect(await ann.locator('#peers li').count()).toBe(0);
    const notes = await ann.$$eval('#log li[data-kind="note"]', (items) => items.map((li) => li.textContent));
    expect(notes).toEqual([
      'Bob joined.',
      `${HOSTILE_NAME} joined.`,
      `${HOSTILE_NAME} left. Your messages go to everyone now.`,
      'Bob left.',
    ]);
    expect(
      await ann.evaluate(() => ({
        pwned: 'pwned' in window,
        images: document.images.length,
        bold: document.querySelectorAll('#log b').length,
      })),
    ).toEqual({ pwned: false, images: 0, bold: 0 });
  });

  it('says plainly that the safety number changed when a reconnect gave everyone new keys', async () => {
    const ann = await joinChat('Ann');
    const bob = await joinChat('Bob');
    const before = await safetyNumberWith(ann, await peerId(ann, 'Bob'));
    expect(await safetyNumberWith(bob, await peerId(bob, 'Ann'))).toBe(before);

    suite.server.dropConnections();
    for (const [page, other] of [
      [ann, 'Bob'],
      [bob, 'Ann'],
    ] as const) {
      await waitForExactLine(page, 'safety', `Safety number with ${other} changed (you reconnected): compare again.`);
      await page.locator('#log li[data-kind="note"]', { hasText: 'Reconnected after' }).waitFor();
      await page.waitForSelector('#state[data-state="connected"]');
    }
    // The conversation Ann had open goes on with Bob, who is flagged until she moves on.
    const bobNow = await peerId(ann, 'Bob');
    expect(await ann.inputValue('#to')).toBe(bobNow);
    expect(await ann.isEnabled('#send')).toBe(true);
    expect(await ann.textContent(`#peers li[data-pid="${bobNow}"] .peer-changed`)).toBe(
      'Safety number changed: compare again',
    );
    const after = await safetyNumberWith(ann, bobNow);
    expect(after).toMatch(SAFETY_NUMBER);
    expect(after).not.toBe(before);
    expect(await safetyNumberWith(bob, await peerId(bob, 'Ann'))).toBe(after);
    expect(await ann.isVisible('#conversation-changed')).toBe(true);

    await say(ann, bobNow, 'still private after the reconnect');
    expect(await waitForLine(bob, 'after the reconnect')).toEqual({
      meta: 'Ann → you',
      type: 'direct',
      encrypted: 'true',
    });
    // Bob seen again after the reconnect is not announced as a newcomer.
    expect(await ann.locator('#log li[data-kind="note"]', { hasText: 'joined' }).count()).toBe(1);
  });

  it('keeps the last 500 lines of the log', async () => {
    const ann = await joinChat('Ann');
    const last = await ann.evaluate(async () => {
      const log = document.querySelector('#log') as HTMLElement;
      const input = document.querySelector('#text') as HTMLInputElement;
      const form = document.querySelector('#compose') as HTMLFormElement;
      const line = (i: number) => `line ${i}`;
      for (let i = 0; i < 510; i++) {
        const shown = new Promise<void>((resolve) => {
          const observer = new MutationObserver(() => {
            if (!log.lastElementChild?.textContent?.endsWith(line(i))) return;
            observer.disconnect();
            resolve();
          });
          observer.observe(log, { childList: true });
        });
        input.value = line(i);
        form.requestSubmit();
        await shown;
      }
      return [log.childElementCount, log.firstElementChild?.textContent, log.lastElementChild?.textContent];
    });
    expect(last).toEqual([500, 'you → everyoneencryptedline 10', 'you → everyoneencryptedline 509']);
  });

  it('fits a 400 px window and uses a 1400 px one, the safety number on one line', async () => {
    const ann = await joinChat('Ann', { width: 1400, height: 900 });
    await joinChat('Bob');
    await safetyNumberWith(ann, await peerId(ann, 'Bob'));

    const wide = await measure(ann);
    expect(wide.scrollWidth).toBe(wide.width);
    expect(wide.aside.left).toBeLessThanOrEqual(24);
    expect(wide.conversation.right).toBeGreaterThanOrEqual(wide.width - 24);
    expect(wide.aside.right).toBeLessThanOrEqual(wide.conversation.left);
    expect(wide.aside.top).toBe(wide.conversation.top);
    expect(wide.conversation.width).toBeGreaterThanOrEqual(0.6 * wide.width);
    expect(wide.conversation.bottom).toBeGreaterThanOrEqual(wide.height - 24);
    expect(wide.safety).toEqual([
      { lines: 1, inside: true },
      { lines: 1, inside: true },
    ]);

    await ann.setViewportSize({ width: 400, height: 800 });
    const narrow = await measure(ann);
    expect(narrow.scrollWidth).toBe(narrow.width);
    for (const panel of [narrow.aside, narrow.conversation]) {
      expect(panel.left).toBeLessThanOrEqual(24);
      expect(panel.right).toBeGreaterThanOrEqual(narrow.width - 24);
    }
    expect(narrow.aside.bottom).toBeLessThanOrEqual(narrow.conversation.top);
    expect(narrow.send.right).toBeLessThanOrEqual(narrow.conversation.right);
    expect(narrow.safety).toEqual(wide.safety);
  });
});

/**
 * Boxes of the panels and the send button; the document's scroll width against the window's;
 * for every safety number shown, how many lines its text takes and whether it stays inside its panel.
 */
function measure(page: Page) {
  return page.evaluate(() => {
    const box = (node: Element | null) => {
      if (!node) throw new Error('an element to measure is missing');
      const { left, right, top, bottom, width } = node.getBoundingClientRect();
      return { left, right, top, bottom, width };
    };
    const safety = [...document.querySelectorAll('#conversation-safety, #peers .peer-safety')].map((node) => {
      const range = document.createRange();
      range.selectNodeContents(node);
      const lines = new Set([...range.getClientRects()].map((rect) => Math.round(rect.top))).size;
      const panel = box(node.closest('#peers, .conversation'));
      const own = box(node);
      return { lines, inside: own.left >= panel.left && own.right <= panel.right };
    });
    return {
      width: document.documentElement.clientWidth,
      height: window.innerHeight,
      scrollWidth: document.documentElement.scrollWidth,
      aside: box(document.querySelector('aside')),
      conversation: box(document.querySelector('.conversation')),
      send: box(document.querySelector('#send')),
      safety,
    };
  });
}

async function writeScreenshot(page: Page): Promise<void> {
  const png = await page.screenshot();
  expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
  if (existsSync(SCREENSHOT) && process.env.WSS_UPDATE_SCREENSHOT !== '1') return;
  await mkdir(join(ROOT, 'docs'), { recursive: true });
  await writeFile(SCREENSHOT, png);
}
