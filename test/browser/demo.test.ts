import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { startTestApp } from '../utils/test-app.ts';
import { launchChromium, offline, screenshotPath } from './chromium.ts';

const STEP_MS = 10_000;

async function signIn(page: Page, url: string, name: string) {
  await page.goto(url, { waitUntil: 'load', timeout: STEP_MS });
  await page.locator('#name').fill(name);
  await page.locator('#name').press('Enter');
  await page.locator('#status', { hasText: 'online' }).waitFor({ timeout: STEP_MS });
  await page.locator('#me', { hasText: `Signed in as ${name}` }).waitFor({ timeout: STEP_MS });
}

describe('demo chat page at /', () => {
  it('lets two people chat, shows who is online and typing, and who left', async () => {
    // The demo page and its /dev/token exist only with the built-in dev secret (no JWT_SECRET), as with `npm start`.
    const app = await startTestApp({ JWT_SECRET: '' });
    const browser = await launchChromium();
    const viewport = { width: 1100, height: 560 };
    // Two contexts: two cookie jars and storages, two users, as in two browsers.
    const alice = await (await browser.newContext({ viewport })).newPage();
    const bob = await (await browser.newContext({ viewport })).newPage();
    const leaked = [...(await Promise.all([offline(alice), offline(bob)]))];

    await signIn(alice, app.url, 'Alice');
    await alice.locator('#room-name').fill('demo');
    await alice.locator('#room-name').press('Enter');
    await alice.locator('#room-title', { hasText: '# demo' }).waitFor({ timeout: STEP_MS });

    await signIn(bob, app.url, 'Bob');
    await bob.locator('#rooms button', { hasText: '# demo' }).click();
    await bob.locator('#online li[data-user-id="alice"]').waitFor({ timeout: STEP_MS });
    await alice.locator('#online li[data-user-id="bob"]', { hasText: 'Bob' }).waitFor({ timeout: STEP_MS });

    // Typing: Bob's keystrokes send setTyping(true); Alice sees it, and it clears when he sends.
    await bob.locator('#body').click();
    await bob.keyboard.type('hello Alice');
    await alice.locator('#typing', { hasText: 'Bob is typing…' }).waitFor({ timeout: STEP_MS });
    await alice.screenshot({ path: screenshotPath('demo-alice-typing.png') });
    await bob.keyboard.press('Enter');
    const received = alice.locator('#messages li', { hasText: 'hello Alice' });
    await received.waitFor({ timeout: STEP_MS });
    expect(await received.locator('.author').innerText()).toBe('Bob');
    await alice.locator('#typing').filter({ hasText: /^$/ }).waitFor({ timeout: STEP_MS });

    await alice.locator('#body').fill('hi Bob');
    await alice.locator('#body').press('Enter');
    await bob.locator('#messages li', { hasText: 'hi Bob' }).waitFor({ timeout: STEP_MS });
    expect(await bob.locator('#messages li .body').allInnerTexts()).toEqual(['hello Alice', 'hi Bob']);
    await bob.screenshot({ path: screenshotPath('demo-bob.png') });

    // Closing Bob's page closes his socket: his presence ends and Alice's list drops him.
    await bob.close();
    await alice.locator('#online li[data-user-id="bob"]').waitFor({ state: 'detached', timeout: STEP_MS });
    expect(await alice.locator('#online li').allInnerTexts()).toEqual(['Alice (you)']);
    await alice.screenshot({ path: screenshotPath('demo-alice-after-bob-left.png') });

    expect(leaked.flat()).toEqual([]);
  });
});
