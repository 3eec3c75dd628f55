import { describe, expect, it } from 'vitest';
import { ROOM_EVENTS, createRoom, send } from '../utils/chat.ts';
import { useRedis } from '../utils/redis-server.ts';
import { waitFor } from '../utils/wait.ts';
import { connectAuthed } from '../utils/ws-client.ts';
import { startTestApp } from '../utils/test-app.ts';
import { signTestToken } from '../utils/tokens.ts';
import { launchChromium, offline, screenshotPath } from './chromium.ts';

const STEP_MS = 15_000;

async function devToken(url: string, name: string): Promise<string> {
  const response = await fetch(`${url}/dev/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { token: string }).token;
}

/** Pixels of the two instances' line colours (#2f6fde, #d9480f) on a chart's canvas: the lines uPlot drew. */
const drawnPixels = (metric: string) => `(() => {
  const canvas = document.querySelector('.chart[data-metric="${metric}"] canvas');
  if (!canvas) return 0;
  const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
  const near = (i, [r, g, b]) => Math.abs(data[i] - r) < 30 && Math.abs(data[i + 1] - g) < 30 && Math.abs(data[i + 2] - b) < 30;
  let count = 0;
  for (let i = 0; i < data.length; i += 4) if (near(i, [47, 111, 222]) || near(i, [217, 72, 15])) count++;
  return count;
})()`;

describe('operations dashboard page at /dashboard', () => {
  const redis = useRedis();

  it('draws live charts and the busiest rooms from the dashboard subscription while a load runs', async () => {
    // Two instances on one Redis, so each chart has two lines. The dev admin token route exists only with the
    // built-in dev secret (no JWT_SECRET), as with `npm start`; both instances share it.
    const env = { JWT_SECRET: '', MESSAGE_RATE: '100', REDIS_URL: redis().url, REDIS_PREFIX: redis().newPrefix() };
    const app = await startTestApp(env);
    const other = await startTestApp(env);
    const browser = await launchChromium();
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 1000 } })).newPage();
    const leaked = await offline(page);

    const token = await devToken(app.url, 'Loader');
    const roomId = await createRoom(app.graphqlUrl, token, { name: 'load-room' });
    const quieter = await createRoom(other.graphqlUrl, token, { name: 'quieter-room' });
    for (const [node, room] of [
      [app, roomId],
      [other, quieter],
    ] as const) {
      const member = await connectAuthed(node.wsUrl, token);
      member.subscribe('s', ROOM_EVENTS, { roomId: room });
      await member.waitForNexts('s', 1);
    }

    await page.goto(`${app.url}/dashboard`, { waitUntil: 'load', timeout: STEP_MS });
    await page.locator('#status', { hasText: 'live' }).waitFor({ timeout: STEP_MS });
    const points = async () => Number(await page.locator('#charts').getAttribute('data-points'));

    let sending = true;
    let sent = 0;
    const load = (async () => {
      while (sending) {
        await send(app.graphqlUrl, token, roomId, `load ${sent++}`);
        if (sent % 3 === 0) await send(other.graphqlUrl, token, quieter, `load ${sent}`);
        await new Promise((resolve) => setTimeout(resolve, 40));
      }
    })();
    try {
      const before = await points();
      // The room shows up as the busiest, with its name, one user online and a positive rate.
      const row = page.locator(`#rooms tr[data-room-id="${roomId}"]`);
      await row.waitFor({ timeout: STEP_MS });
      await waitFor(
        async () => Number(await row.locator('td').nth(2).innerText()) > 0,
        STEP_MS,
        'a positive messages/s in the rooms table',
      );
      expect(await row.locator('td').nth(0).innerText()).toBe('load-room');
      expect(await row.locator('td').nth(1).innerText()).toBe('1');
      await waitFor(async () => Number(await page.locator('#total-instances').innerText()) === 2, STEP_MS, 'both instances on the page');
      await page.locator(`#rooms tr[data-room-id="${quieter}"]`).waitFor({ timeout: STEP_MS });
      await waitFor(async () => (await points()) >= before + 8, STEP_MS, 'eight more points on the charts');
      await waitFor(async () => Number(await page.locator('#total-messages').innerText()) > 0, STEP_MS, 'a positive total messages/s');
      // Each chart is a canvas with the instance's line on it.
      for (const metric of ['connections', 'subscriptions', 'messagesPerSecond', 'deliveriesPerSecond', 'eventLoopLagMs']) {
        await waitFor(async () => ((await page.evaluate(drawnPixels(metric))) as number) > 20, STEP_MS, `the ${metric} line drawn`);
      }
      const screenshot = screenshotPath('dashboard.png');
      await page.screenshot({ path: screenshot, fullPage: true });
      console.log(`dashboard screenshot: ${screenshot}`);
    } finally {
      sending = false;
      await load;
    }
    expect(sent).toBeGreaterThan(20);
    expect(leaked).toEqual([]);
  });

  it('without a dev token route (JWT_SECRET set) asks for an admin token and shows FORBIDDEN for a user token', async () => {
    const app = await startTestApp();
    const browser = await launchChromium();
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${app.url}/dashboard`, { waitUntil: 'load', timeout: STEP_MS });
    await page.locator('#login.shown').waitFor({ timeout: STEP_MS });
    await page.locator('#token').fill(await signTestToken({ sub: 'alice' }));
    await page.locator('#login button').click();
    await page.locator('#status', { hasText: 'FORBIDDEN' }).waitFor({ timeout: STEP_MS });
    await page.locator('#token').fill(await signTestToken({ sub: 'ops', roles: ['admin'] }));
    await page.locator('#login button').click();
    await page.locator('#status', { hasText: 'live' }).waitFor({ timeout: STEP_MS });
  });
});
