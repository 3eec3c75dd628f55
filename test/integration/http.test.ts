import { describe, expect, it } from 'vitest';
import { CREATE_ROOM, createRoom, user } from '../utils/chat.ts';
import { errorCodes, gql } from '../utils/http-client.ts';
import { startTestApp } from '../utils/test-app.ts';
import { signTestToken } from '../utils/tokens.ts';

describe('GraphQL over HTTP', () => {
  it('answers `me` as the user of the Bearer token', async () => {
    const app = await startTestApp();
    const alice = await user('alice');
    expect(await gql(app.graphqlUrl, '{ me { id name } }', {}, alice.token)).toEqual({
      data: { me: { id: 'alice', name: 'Alice' } },
    });
    const bob = await signTestToken({ sub: 'bob' });
    expect(await gql(app.graphqlUrl, '{ me { id name } }', {}, bob)).toEqual({ data: { me: { id: 'bob', name: 'bob' } } });
  });

  it('answers UNAUTHENTICATED without a token, with a bad one and with an expired one', async () => {
    const app = await startTestApp();
    const bad = [
      undefined,
      'not-a-jwt',
      await signTestToken({ sub: 'alice' }, { secret: 'another-secret-0123456789abcdef0123456789' }),
      await signTestToken({ sub: 'alice' }, { expiresIn: '-1s' }),
      await signTestToken({ sub: 'alice' }, { alg: 'HS512' }),
    ];
    for (const token of bad) {
      const me = await gql(app.graphqlUrl, '{ me { id } }', {}, token);
      expect(me.data).toBeNull();
      expect(errorCodes(me)).toEqual(['UNAUTHENTICATED']);
      const create = await gql(app.graphqlUrl, CREATE_ROOM, { name: 'x' }, token);
      expect(errorCodes(create)).toEqual(['UNAUTHENTICATED']);
      const rooms = await gql(app.graphqlUrl, '{ rooms { id } }', {}, token);
      expect(errorCodes(rooms)).toEqual(['UNAUTHENTICATED']);
    }
    // Nothing was created by the refused mutations.
    const alice = await user('alice');
    expect(await gql(app.graphqlUrl, '{ rooms { id } }', {}, alice.token)).toEqual({ data: { rooms: [] } });
  });

  it('creates public and private rooms and returns them as stored', async () => {
    const app = await startTestApp();
    const alice = await user('alice');
    const created = await gql<{ createRoom: { id: string; name: string; private: boolean; createdAt: string } }>(
      app.graphqlUrl,
      CREATE_ROOM,
      { name: '  lobby  ' },
      alice.token,
    );
    expect(created.errors).toBeUndefined();
    const room = created.data!.createRoom;
    expect(room).toMatchObject({ name: 'lobby', private: false });
    expect(Number.isNaN(Date.parse(room.createdAt))).toBe(false);

    const secret = await gql<{ createRoom: { private: boolean } }>(
      app.graphqlUrl,
      CREATE_ROOM,
      { name: 'secret', private: true, members: ['bob'] },
      alice.token,
    );
    expect(secret.data!.createRoom.private).toBe(true);

    const fetched = await gql(
      app.graphqlUrl,
      'query($id: ID!) { room(id: $id) { id name private createdAt } }',
      { id: room.id },
      alice.token,
    );
    expect(fetched).toEqual({ data: { room } });
  });

  it('rejects an empty room name with BAD_USER_INPUT', async () => {
    const app = await startTestApp();
    const alice = await user('alice');
    expect(errorCodes(await gql(app.graphqlUrl, CREATE_ROOM, { name: '   ' }, alice.token))).toEqual(['BAD_USER_INPUT']);
  });

  it('lists public rooms and the private rooms the viewer is a member or creator of', async () => {
    const app = await startTestApp();
    const [alice, bob, carol] = await Promise.all([user('alice'), user('bob'), user('carol')]);
    const lobby = await createRoom(app.graphqlUrl, alice.token, { name: 'lobby' });
    const aliceAndBob = await createRoom(app.graphqlUrl, alice.token, { name: 'a+b', private: true, members: ['bob'] });
    const carolOnly = await createRoom(app.graphqlUrl, carol.token, { name: 'carol', private: true });

    const roomsOf = async (token: string) =>
      ((await gql<{ rooms: Array<{ id: string }> }>(app.graphqlUrl, '{ rooms { id } }', {}, token)).data?.rooms ?? [])
        .map((r) => r.id)
        .sort();
    expect(await roomsOf(alice.token)).toEqual([lobby, aliceAndBob].sort());
    expect(await roomsOf(bob.token)).toEqual([lobby, aliceAndBob].sort());
    expect(await roomsOf(carol.token)).toEqual([lobby, carolOnly].sort());
  });

  it('answers room(id) with null for an unknown room', async () => {
    const app = await startTestApp();
    const alice = await user('alice');
    expect(await gql(app.graphqlUrl, '{ room(id: "r_does_not_exist") { id } }', {}, alice.token)).toEqual({ data: { room: null } });
  });

  it('answers queries over GET and refuses mutations over GET (GraphQL over HTTP)', async () => {
    const app = await startTestApp();
    const alice = await user('alice');
    const headers = { authorization: `Bearer ${alice.token}`, accept: 'application/graphql-response+json, application/json' };
    const query = await fetch(`${app.graphqlUrl}?${new URLSearchParams({ query: '{ me { id } }' })}`, { headers });
    expect(query.status).toBe(200);
    expect(await query.json()).toEqual({ data: { me: { id: 'alice' } } });

    const mutation = await fetch(`${app.graphqlUrl}?${new URLSearchParams({ query: 'mutation { createRoom(name: "via GET") { id } }' })}`, {
      headers,
    });
    expect(mutation.status).toBe(405);
    expect(await gql(app.graphqlUrl, '{ rooms { id } }', {}, alice.token)).toEqual({ data: { rooms: [] } });
  });

  it('serves /health, /ready and /metrics', async () => {
    const app = await startTestApp();
    expect((await fetch(`${app.url}/health`)).status).toBe(200);
    expect((await fetch(`${app.url}/ready`)).status).toBe(200);
    const metrics = await fetch(`${app.url}/metrics`);
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    for (const name of ['chat_ws_connections', 'chat_subscriptions', 'chat_messages_in_total', 'chat_ws_deliveries_total']) {
      expect(text).toContain(`\n${name} `);
    }
  });
});
