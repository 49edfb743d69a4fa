/**
 * The chat demo that `wss-sessions serve` shows at its HTTP address: two people in separate
 * browser contexts join, see each other, chat to everyone and to one person, see that the
 * conversation is end-to-end encrypted with the same safety number at both ends, and live
 * through a dropped connection. Names and messages are shown as text, never as markup.
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
const HOSTILE_NAME = 'Bob <img src=x onerror="window.pwned=1">';

/** The demo is served by the reference server itself, so no asset server. */
const suite = useBrowserSuite({ pages: null });

async function joinChat(name: string): Promise<Page> {
  const p = await suite.open(`${suite.server.httpUrl}/`);
  await p.page.setViewportSize({ width: 980, height: 640 });
  await p.page.fill('#name', name);
  await p.page.click('#join-button');
  await p.page.waitForSelector('#chat:not([hidden])');
  await p.page.waitForSelector('#state[data-state="connected"]');
  return p.page;
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

async function safetyNumberWith(page: Page, privateId: string): Promise<string> {
  await page.selectOption('#to', privateId);
  await page.waitForSelector('#conversation[data-encrypted="true"]');
  const text = (await page.textContent('#conversation-safety')) ?? '';
  return text.replace('Safety number: ', '');
}

async function peerIds(page: Page): Promise<string[]> {
  return page.$$eval('#peers li', (items) => items.map((li) => (li as HTMLElement).dataset.pid ?? ''));
}

describe('the chat demo at GET /', () => {
  it('lets two browsers chat to everyone and to each other, end to end encrypted, with one safety number', async () => {
    const ann = await joinChat('Ann');
    const bob = await joinChat('Bob');
    await ann.waitForSelector('#peers li');
    await bob.waitForSelector('#peers li');
    expect(await ann.textContent('#peers .peer-name')).toBe('Bob');
    expect(await bob.textContent('#peers .peer-name')).toBe('Ann');
    const [bobId] = await peerIds(ann);
    const [annId] = await peerIds(bob);
    expect(suite.server.sessions.slice().sort()).toEqual([annId, bobId].sort());

    await say(ann, '', 'Hello everyone <b>not bold</b>');
    expect(await waitForLine(bob, 'Hello everyone')).toEqual({
      meta: 'Ann → everyone',
      type: 'broadcast',
      encrypted: 'true',
    });
    expect(await bob.textContent('#log li[data-type="broadcast"]')).toContain('<b>not bold</b>');

    await say(bob, annId!, 'Hi Ann, just you');
    expect(await waitForLine(ann, 'just you')).toEqual({ meta: 'Bob → you', type: 'direct', encrypted: 'true' });
    await say(ann, bobId!, 'Hi Bob, privately');
    expect(await waitForLine(bob, 'privately')).toEqual({ meta: 'Ann → you', type: 'direct', encrypted: 'true' });

    const annSafety = await safetyNumberWith(ann, bobId!);
    const bobSafety = await safetyNumberWith(bob, annId!);
    expect(annSafety).toMatch(/^\d{5}( \d{5}){5}$/);
    expect(bobSafety).toBe(annSafety);
    expect(await ann.textContent('#conversation-label')).toBe('End-to-end encrypted with Bob.');
    expect(await ann.textContent('#peers .peer-safety')).toBe(annSafety);
    await writeScreenshot(ann);

    // A third person with a name that is markup: everyone sees it as text.
    const eve = await joinChat(HOSTILE_NAME);
    await ann.locator('#peers .peer-name', { hasText: 'onerror' }).waitFor();
    await say(eve, '', '<img src=y onerror="window.pwned=2">');
    await waitForLine(bob, 'window.pwned=2');
    expect(await bob.textContent('#log li[data-kind="note"]:has-text("joined")')).toBe(`${HOSTILE_NAME} joined.`);
    for (const page of [ann, bob, eve]) {
      expect(
        await page.evaluate(() => ({
          pwned: 'pwned' in window,
          images: document.images.length,
          bold: document.querySelectorAll('#log b').length,
        })),
      ).toEqual({ pwned: false, images: 0, bold: 0 });
    }

    // The server cuts every socket: each page shows the reconnect and is encrypted again.
    suite.server.dropConnections();
    for (const page of [ann, bob, eve]) {
      await page.locator('#log li[data-kind="note"]', { hasText: 'Reconnected after' }).waitFor();
      await page.waitForSelector('#state[data-state="connected"]');
    }
    await ann.waitForFunction(() => document.querySelectorAll('#peers li .peer-safety').length === 2);
    const bobAgain = await ann.getAttribute('#peers li:has(.peer-name:text-is("Bob"))', 'data-pid');
    await say(ann, bobAgain!, 'still private after the reconnect');
    expect(await waitForLine(bob, 'after the reconnect')).toEqual({
      meta: 'Ann → you',
      type: 'direct',
      encrypted: 'true',
    });
  });
});

async function writeScreenshot(page: Page): Promise<void> {
  const png = await page.screenshot({ fullPage: true });
  expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
  if (existsSync(SCREENSHOT) && process.env.WSS_UPDATE_SCREENSHOT !== '1') return;
  await mkdir(join(ROOT, 'docs'), { recursive: true });
  await writeFile(SCREENSHOT, png);
}
