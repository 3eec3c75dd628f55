import { describe, expect, it, onTestFinished } from 'vitest';
import { gql } from '../utils/http-client.ts';
import { startTestApp } from '../utils/test-app.ts';
import { signTestToken } from '../utils/tokens.ts';
import { waitFor } from '../utils/wait.ts';
import { launchChromium, offline, replaceEditorText, screenshotPath } from './chromium.ts';

describe('GraphiQL at /graphql', () => {
  it('authenticates from the headers editor and shows roomEvents arriving, with no internet', async () => {
    const app = await startTestApp();
    const grace = await signTestToken({ sub: 'grace', name: 'Grace' });
    const created = await gql<{ createRoom: { id: string } }>(
      app.graphqlUrl,
      'mutation { createRoom(name: "graphiql") { id } }',
      {},
      grace,
    );
    const roomId = created.data?.createRoom.id;
    expect(roomId).toEqual(expect.any(String));

    const browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1400, height: 800 } });
    const leaked = await offline(page);
    onTestFinished(async (context) => {
      if (context.task.result?.state === 'fail')
        await page.screenshot({ path: screenshotPath('graphiql-failure.png') }).catch(() => undefined);
    });
    const response = await page.goto(app.graphqlUrl, { waitUntil: 'load', timeout: 20_000 });
    expect(response?.headers()['content-type']).toContain('text/html');
    await page.locator('.graphiql-query-editor .monaco-editor').waitFor({ timeout: 20_000 });

    // As a user would: the Headers tab, then the operation editor, then the run button.
    await page.getByRole('button', { name: 'Headers', exact: true }).click();
    await replaceEditorText(
      page,
      '.graphiql-editor-tool .graphiql-editor:not(.hidden) .monaco-editor',
      JSON.stringify({ Authorization: `Bearer ${grace}` }),
    );
    await replaceEditorText(
      page,
      '.graphiql-query-editor .monaco-editor',
      // One line: Enter in Monaco auto-indents and closes braces, which a user would fix and a test cannot.
      `subscription Watch { roomEvents(roomId: "${roomId}") { __typename ... on MessageSent { message { body author { name } } } } }`,
    );
    const run = page.locator('.graphiql-execute-button');
    await run.click();

    // The subscription is open (as Grace, so the header reached the server) once she is in the room.
    const online = async () => {
      const result = await gql<{ room: { online: Array<{ user: { id: string } }> } }>(
        app.graphqlUrl,
        'query($id: ID!) { room(id: $id) { online { user { id } } } }',
        { id: roomId },
        grace,
      );
      return result.data?.room.online.map((p) => p.user.id) ?? [];
    };
    await waitFor(
      async () => {
        if ((await online()).includes('grace')) return true;
        // On a loaded machine a click can land before GraphiQL has wired its run action (the button still says
        // "Execute"); a person would click again, and so does the test, never while the operation is running.
        if ((await run.getAttribute('aria-label'))?.startsWith('Execute')) await run.click();
        await new Promise((resolve) => setTimeout(resolve, 250));
        return false;
      },
      20_000,
      'the GraphiQL subscription to open',
    );

    const sent = await gql(
      app.graphqlUrl,
      'mutation($roomId: ID!) { sendMessage(roomId: $roomId, body: "hello-from-http") { id } }',
      { roomId },
      await signTestToken({ sub: 'henry', name: 'Henry' }),
    );
    expect(sent.errors).toBeUndefined();

    const result = page.locator('.graphiql-response');
    await waitFor(async () => (await result.innerText()).includes('hello-from-http'), 10_000, 'the event in the result pane');
    const text = (await result.innerText()).replace(/\s+/g, ' ');
    expect(text).toContain('"__typename": "MessageSent"');
    expect(text).toContain('"name": "Henry"');
    expect(text).not.toContain('UNAUTHENTICATED');

    await page.screenshot({ path: screenshotPath('graphiql.png') });
    expect(leaked).toEqual([]);
  });
});
