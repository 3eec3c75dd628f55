import { mkdirSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { onTestFinished } from 'vitest';
import { within } from '../utils/wait.ts';

/** Screenshots land here (ignored by git); the report describes what they show. */
export const ARTIFACTS = new URL('../artifacts/', import.meta.url);

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Debian's Chromium (never a browser download), launched as a server so the test knows its PID: teardown
 * closes it politely and SIGKILLs it if that does not finish, pass or fail.
 */
export async function launchChromium(): Promise<Browser> {
  const server = await chromium.launchServer({ executablePath: '/usr/bin/chromium', args: ARGS, timeout: 20_000 });
  const pid = server.process().pid;
  onTestFinished(async () => {
    await within(server.close(), 5_000, 'chromium to close').catch(() => {
      if (pid !== undefined) process.kill(pid, 'SIGKILL');
    });
  });
  const browser = await chromium.connect(server.wsEndpoint(), { timeout: 10_000 });
  onTestFinished(() => within(browser.close(), 5_000, 'browser connection to close').catch(() => undefined));
  return browser;
}

/**
 * Fails every request that would leave this machine and records it: the pages under test must work with no
 * internet (pitfalls §21). `blob:` and `data:` URLs (GraphiQL's editor workers) never reach the network.
 */
export async function offline(page: Page): Promise<string[]> {
  const leaked: string[] = [];
  await page.route('**', async (route) => {
    const url = new URL(route.request().url());
    if (['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) return route.continue();
    leaked.push(url.href);
    await route.abort('internetdisconnected');
  });
  return leaked;
}

export function screenshotPath(name: string): string {
  mkdirSync(ARTIFACTS, { recursive: true });
  return new URL(name, ARTIFACTS).pathname;
}

/** What a Monaco editor shows (its DOM uses non-breaking spaces). */
export const editorText = async (page: Page, selector: string) =>
  (await page.locator(`${selector} .view-lines`).innerText()).replace(/\u00a0/g, ' ').trim();

/**
 * Replaces all text of a Monaco editor the way a user would: focus, select all, type. Checks what the editor
 * shows afterwards and types again if keystrokes were lost (an editor still initialising drops them).
 */
export async function replaceEditorText(page: Page, selector: string, text: string, attempts = 3) {
  for (let attempt = 1; ; attempt++) {
    await page.locator(selector).click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.press('Delete');
    // insertText sends the text as one input, so the editor's bracket auto-closing does not double braces.
    await page.keyboard.insertText(text);
    // Back to the start of the line, so screenshots show the beginning of what was typed.
    await page.keyboard.press('Home');
    const shown = await editorText(page, selector);
    if (shown === text) return;
    if (attempt >= attempts) throw new Error(`the editor shows ${JSON.stringify(shown)}, not ${JSON.stringify(text)}`);
  }
}
