import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { readDocument } from '../utils/documents.ts';
import { startTestApp } from '../utils/test-app.ts';
import { waitFor } from '../utils/wait.ts';
import { launchChromium, offline, screenshotPath } from './chromium.ts';

const STEP_MS = 10_000;

async function signIn(page: Page, url: string, name: string) {
  await page.goto(url, { waitUntil: 'load', timeout: STEP_MS });
  await page.locator('#name').fill(name);
  await page.locator('#name').press('Enter');
  await page.locator('#status', { hasText: 'online' }).waitFor({ timeout: STEP_MS });
}

const shown = async (page: Page) => page.locator('#text').inputValue();

describe('collaborative editor page at /editor', () => {
  it('two people type into one document at once, see each other and each other’s cursor, and end with the same text', async () => {
    const app = await startTestApp({ JWT_SECRET: '', EDIT_RATE: '1000', EDIT_BURST: '1000' });
    const browser = await launchChromium();
    const viewport = { width: 1100, height: 520 };
    const alice = await (await browser.newContext({ viewport })).newPage();
    const bob = await (await browser.newContext({ viewport })).newPage();
    const leaked = await Promise.all([offline(alice), offline(bob)]);
    const pageErrors: string[] = [];
    for (const page of [alice, bob]) page.on('pageerror', (error) => pageErrors.push(error.message));

    await signIn(alice, `${app.url}/editor`, 'Alice');
    await alice.locator('#room-name').fill('notes');
    await alice.locator('#room-name').press('Enter');
    await alice.locator('#document-title').fill('plan');
    await alice.locator('#document-title').press('Enter');
    await alice.locator('#doc-title', { hasText: 'plan' }).waitFor({ timeout: STEP_MS });
    await alice.locator('#text:not([disabled])').waitFor({ timeout: STEP_MS });
    const documentId = new URL(alice.url()).searchParams.get('doc')!;
    expect(documentId).toMatch(/^d_/);

    // Bob opens the same document in his own window (a link shared by Alice).
    await signIn(bob, alice.url(), 'Bob');
    await bob.locator('#doc-title', { hasText: 'plan' }).waitFor({ timeout: STEP_MS });
    await alice.locator('#editors li', { hasText: 'Bob' }).waitFor({ timeout: STEP_MS });
    await bob.locator('#editors li', { hasText: 'Alice' }).waitFor({ timeout: STEP_MS });

    // Alice writes a first line; Bob sees it arrive.
    const first = 'Shared notes 🗒\n';
    await alice.locator('#text').click();
    await alice.keyboard.type(first, { delay: 10 });
    await waitFor(async () => (await shown(bob)) === first, STEP_MS, 'Bob sees the first line').catch(async (error: Error) => {
      throw new Error(`${error.message}: alice ${JSON.stringify(await shown(alice))}, bob ${JSON.stringify(await shown(bob))}`);
    });

    // Then both type at once, Bob at the top and Alice at the end: code points beyond the BMP and a ZWJ sequence
    // included, so UTF-16 offsets and code points differ on both sides of every edit.
    const aliceText = 'Alice: héllo 🙂 world.';
    const bobText = 'Bob 👩‍👩‍👧 was here ü! ';
    await alice.locator('#text').press('ControlOrMeta+End');
    await bob.locator('#text').click();
    await bob.locator('#text').press('ControlOrMeta+Home');
    await Promise.all([alice.keyboard.type(aliceText, { delay: 25 }), bob.keyboard.type(bobText, { delay: 25 })]);

    const expected = bobText + first + aliceText;
    await waitFor(
      async () => (await shown(alice)) === expected && (await shown(bob)) === expected,
      STEP_MS,
      'both pages show the same text',
    ).catch(async (error: Error) => {
      throw new Error(`${error.message}: alice ${JSON.stringify(await shown(alice))}, bob ${JSON.stringify(await shown(bob))}`);
    });
    const text = expected;
    // The server signs with its built-in dev secret here: a reader's token comes from its dev-token route.
    const reader = (
      (await (
        await fetch(`${app.url}/dev/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"Reader"}' })
      ).json()) as { token: string }
    ).token;
    await waitFor(
      async () => (await readDocument(app.graphqlUrl, reader, documentId)).text === text,
      STEP_MS,
      'the server has the same text',
    );
    await alice.locator('#meta', { hasText: 'saved' }).waitFor({ timeout: STEP_MS });

    // Cursors: Bob selects a word; Alice sees his caret and selection in her preview, and Bob sees Alice's.
    await bob.locator('#text').focus();
    await bob.evaluate(() => {
      const area = document.getElementById('text') as HTMLTextAreaElement;
      const at = area.value.indexOf('here');
      area.setSelectionRange(at, at + 4);
      area.dispatchEvent(new Event('select'));
    });
    await alice.locator('#preview .caret[data-name="Bob"]').waitFor({ timeout: STEP_MS });
    await alice.locator('#preview .selected', { hasText: 'here' }).waitFor({ timeout: STEP_MS });
    await alice.locator('#text').press('End');
    await bob.locator('#preview .caret[data-name="Alice"]').waitFor({ timeout: STEP_MS });

    await alice.screenshot({ path: screenshotPath('editor-alice.png') });
    await bob.screenshot({ path: screenshotPath('editor-bob.png') });
    expect(pageErrors).toEqual([]);
    expect(leaked.flat()).toEqual([]);
  });
});
