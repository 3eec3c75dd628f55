import { describe, expect, it } from 'vitest';
import { gql } from '../utils/http-client.ts';
import { subscribeSse } from '../utils/sse-client.ts';
import { startTestApp } from '../utils/test-app.ts';
import { signTestToken } from '../utils/tokens.ts';
import { within } from '../utils/wait.ts';

describe('SSE subscriptions and token expiry', () => {
  it('ends an SSE subscription with UNAUTHENTICATED when its token expires', async () => {
    const app = await startTestApp();
    const owner = await signTestToken({ sub: 'owner' });
    const roomId = (await gql(app.graphqlUrl, 'mutation { createRoom(name: "sse") { id } }', {}, owner)).data?.createRoom.id;
    const shortLived = await signTestToken({ sub: 'visitor' }, { expiresIn: Math.floor(Date.now() / 1000) + 2 });
    const sse = await subscribeSse(
      app.graphqlUrl,
      'subscription($r: ID!) { roomEvents(roomId: $r) { __typename } }',
      { r: roomId },
      { token: shortLived },
    );
    expect(sse.status).toBe(200);
    await sse.waitForNexts(1);
    expect(sse.nexts()[0]).toEqual({ data: { roomEvents: { __typename: 'MemberJoined' } } });
    await within(sse.ended, 5_000, 'the stream to end at expiry');
    const last = sse.nexts().at(-1);
    expect(last.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});
