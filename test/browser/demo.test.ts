import type { Page } from 'playwright-core';
import { describe, expect, it, onTestFinished } from 'vitest';
import { send } from '../utils/chat.ts';
import { startRedisServer } from '../utils/redis-server.ts';
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

  it('loses nothing across a server restart: what was sent meanwhile appears once, in order', async () => {
    const redis = await startRedisServer();
    const prefix = redis.newPrefix();
    onTestFinished(async () => {
      await redis.deleteKeys(prefix).catch(() => undefined);
      await redis.stop();
    });
    // Two instances of one cluster: the page's, which restarts, and another one that Bob writes to meanwhile.
    const env = { JWT_SECRET: '', REDIS_URL: redis.url, REDIS_PREFIX: prefix };
    const [pageServer, other] = await Promise.all([startTestApp(env), startTestApp(env)]);
    const browser = await launchChromium();
    const alice = await (await browser.newContext({ viewport: { width: 1100, height: 560 } })).newPage();
    const leaked = await offline(alice);
    const pageErrors: string[] = [];
    alice.on('pageerror', (error) => pageErrors.push(error.message));

    await signIn(alice, pageServer.url, 'Alice');
    await alice.locator('#room-name').fill('restart');
    await alice.locator('#room-name').press('Enter');
    await alice.locator('#room-title', { hasText: '# restart' }).waitFor({ timeout: STEP_MS });
    await alice.locator('#body').fill('before the restart');
    await alice.locator('#body').press('Enter');
    await alice.locator('#messages li', { hasText: 'before the restart' }).waitFor({ timeout: STEP_MS });

    const bob = (await (
      await fetch(`${other.url}/dev/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Bob' }),
      })
    ).json()) as { token: string };
    const roomId = await alice.locator('#rooms button', { hasText: '# restart' }).getAttribute('data-room-id');
    expect(roomId).toEqual(expect.any(String));
    // Subscribed (present) before the restart: its stream is live, so what follows is a resumption, not a first load.
    await send(other.graphqlUrl, bob.token, roomId as string, 'live before the restart');
    await alice.locator('#messages li', { hasText: 'live before the restart' }).waitFor({ timeout: STEP_MS });

    // The page's server goes away (1001): the page cannot connect anywhere while Bob writes to the other instance.
    await pageServer.stop();
    await alice.locator('#status', { hasText: /connecting/ }).waitFor({ timeout: STEP_MS });
    const away = ['away 1', 'away 2', 'away 3', 'away 4', 'away 5'];
    for (const body of away) await send(other.graphqlUrl, bob.token, roomId as string, body);
    expect(await alice.locator('#status').innerText()).not.toBe('online');

    // Back on the same port: graphql-ws reconnects, the helper resumes after the last message the page showed.
    await startTestApp({ ...env, PORT: String(pageServer.port) });
    await alice.locator('#status', { hasText: 'online' }).waitFor({ timeout: 30_000 });
    await send(other.graphqlUrl, bob.token, roomId as string, 'after the restart');
    await alice.locator('#messages li', { hasText: 'after the restart' }).waitFor({ timeout: STEP_MS });
    await alice.screenshot({ path: screenshotPath('demo-after-restart.png') });

    expect(await alice.locator('#messages li .body').allInnerTexts()).toEqual([
      'before the restart',
      'live before the restart',
      ...away,
      'after the restart',
    ]);
    expect(pageErrors).toEqual([]);
    expect(leaked).toEqual([]);
  });
});
