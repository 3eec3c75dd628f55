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
}

async function createRoom(page: Page, name: string) {
  await page.locator('#room-name').fill(name);
  await page.locator('#room-name').press('Enter');
  await page.locator('#room-title', { hasText: `# ${name}` }).waitFor({ timeout: STEP_MS });
}

describe('demo chat page: userEvents', () => {
  it('shows a room created in another window without a reload, and a mention badge on a room not open', async () => {
    const app = await startTestApp({ JWT_SECRET: '' });
    const browser = await launchChromium();
    const viewport = { width: 1100, height: 560 };
    const alice = await (await browser.newContext({ viewport })).newPage();
    const bob = await (await browser.newContext({ viewport })).newPage();
    const leaked = [...(await Promise.all([offline(alice), offline(bob)]))];

    await signIn(alice, app.url, 'Alice');
    await createRoom(alice, 'before');
    await signIn(bob, app.url, 'Bob');
    // Bob's first listing is loaded: anything that appears from now on came over userEvents.
    await bob.locator('#rooms button', { hasText: '# before' }).waitFor({ timeout: STEP_MS });

    // The page's userEvents stream gives no sign that it is live: rooms are created until one shows up.
    let shown = '';
    for (let attempt = 1; !shown; attempt++) {
      if (attempt > 10) throw new Error('no room appeared in the other window');
      await createRoom(alice, `live-${attempt}`);
      const button = bob.locator('#rooms button', { hasText: `# live-${attempt}` });
      if (
        await button.waitFor({ timeout: 2_000 }).then(
          () => true,
          () => false,
        )
      )
        shown = `live-${attempt}`;
    }
    await bob.screenshot({ path: screenshotPath('demo-user-events-room-appeared.png') });

    // Alice is in the new room; Bob is in none: her mention of him shows on that room's button.
    await alice.locator('#body').fill('hi @bob, look here');
    await alice.locator('#body').press('Enter');
    const badge = bob.locator('#rooms button', { hasText: `# ${shown}` }).locator('.mention-badge');
    await badge.waitFor({ timeout: STEP_MS });
    expect(await badge.innerText()).toBe('@1');
    await bob.screenshot({ path: screenshotPath('demo-user-events-mention-badge.png') });

    // Opening the room reads the mention: the badge goes, and the message is there.
    await bob.locator('#rooms button', { hasText: `# ${shown}` }).click();
    await bob.locator('#messages li', { hasText: 'hi @bob, look here' }).waitFor({ timeout: STEP_MS });
    await badge.waitFor({ state: 'detached', timeout: STEP_MS });
    expect(leaked.flat()).toEqual([]);
  });
});
