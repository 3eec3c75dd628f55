import { buildSchema, parse, print, validate } from 'graphql';
import { readFileSync } from 'node:fs';
import { describe, it } from 'vitest';
import { planResume } from '../../src/client/resume-plan.ts';

// The transformation alone: what the helper sends for the documents apps write, and how it reads and strips events.
// `documentEvents` has no server yet, so this is where its rewrite is checked.

// Documents are in the contract but not yet in every checkout's schema file: their types from CONTRACT.md if absent.
const DOCUMENTS = `
  extend type Subscription { documentEvents(documentId: ID!, afterVersion: Int): DocumentEvent! }
  union DocumentEvent = DocumentEdited | CursorMoved
  type TextOpComponent { retain: Int insert: String delete: Int }
  type DocumentEdited { documentId: ID! version: Int! operation: [TextOpComponent!]! author: User! clientEditId: ID }
  type CursorMoved { documentId: ID! user: User! version: Int! anchor: Int! head: Int! }
`;
const sdl = readFileSync(new URL('../../schema/chat.graphql', import.meta.url), 'utf8');
const schema = buildSchema(sdl.includes('documentEvents') ? sdl : sdl + DOCUMENTS);
const squash = (query: string) => print(parse(query));
const oneLine = (query: string | undefined) => (query ?? '').replace(/\s+/g, ' ');
const valid = (query: string) => validate(schema, parse(query)).map((e) => e.message);

describe('planResume', () => {
  it('adds the `after` variable and argument, and an aliased message id that it strips again', ({ expect }) => {
    const plan = planResume('subscription($roomId: ID!) { roomEvents(roomId: $roomId) { __typename } }');
    expect(plan?.query).toBe(
      squash(
        'subscription($roomId: ID!, $after: ID) { roomEvents(roomId: $roomId, after: $after) { __typename ... on MessageSent { resumableMessage: message { id } } } }',
      ),
    );
    expect(valid(plan?.query ?? '')).toEqual([]);
    expect(plan?.variable).toBe('after');
    const data = { roomEvents: { __typename: 'MessageSent', resumableMessage: { id: 'r_1:000000000007' } } };
    expect(plan?.cursorOf(data)).toBe('r_1:000000000007');
    plan?.strip(data);
    expect(data).toEqual({ roomEvents: { __typename: 'MessageSent' } });
    expect(plan?.cursorOf({ roomEvents: { __typename: 'MemberJoined' } })).toBeUndefined();
  });

  it('reads the id the app selects through a named fragment and an alias, adding no selection', ({ expect }) => {
    const query = `
      subscription Watch($roomId: ID!) { events: roomEvents(roomId: $roomId) { __typename ...RoomEventFields } }
      fragment RoomEventFields on RoomEvent { ... on MessageSent { msg: message { key: id body } } ... on MemberJoined { user { id } } }
    `;
    const plan = planResume(query, 'Watch');
    expect(plan?.query).toBe(
      squash(`
        subscription Watch($roomId: ID!, $after: ID) { events: roomEvents(roomId: $roomId, after: $after) { __typename ...RoomEventFields } }
        fragment RoomEventFields on RoomEvent { ... on MessageSent { msg: message { key: id body } } ... on MemberJoined { user { id } } }
      `),
    );
    expect(valid(plan?.query ?? '')).toEqual([]);
    const data = { events: { __typename: 'MessageSent', msg: { key: 'r_1:000000000003', body: 'hi' } } };
    expect(plan?.cursorOf(data)).toBe('r_1:000000000003');
    plan?.strip(data);
    expect(data).toEqual({ events: { __typename: 'MessageSent', msg: { key: 'r_1:000000000003', body: 'hi' } } });
  });

  it("keeps the README's Apollo document and reads its own message id", ({ expect }) => {
    const query = `
      subscription Watch($roomId: ID!) { roomEvents(roomId: $roomId) { __typename ...RoomEventFields } }
      fragment RoomEventFields on RoomEvent { ... on MessageSent { message { id roomId body sentAt } } }
    `;
    const plan = planResume(query);
    expect(valid(plan?.query ?? '')).toEqual([]);
    expect(plan?.query).not.toContain('resumable');
  });

  it('does not trust an id selected only under a directive, and uses the app-declared variable', ({ expect }) => {
    const plan = planResume(`subscription($r: ID!, $withIds: Boolean!, $from: ID) {
      roomEvents(roomId: $r, after: $from) { ... on MessageSent { message { id @include(if: $withIds) body } } }
    }`);
    expect(plan?.variable).toBe('from');
    expect(oneLine(plan?.query)).toContain('resumableMessage: message');
    expect(plan?.query).not.toMatch(/\$after/);
    expect(valid(plan?.query ?? '')).toEqual([]);
  });

  it('reuses a declared `$after` the app did not pass, and moves a literal cursor into a variable', ({ expect }) => {
    const declared = planResume('subscription($r: ID!, $after: ID) { roomEvents(roomId: $r) { __typename } }');
    expect(declared?.variable).toBe('after');
    expect(valid(declared?.query ?? '')).toEqual([]);

    const literal = planResume('subscription { roomEvents(roomId: "r_1", after: "r_1:000000000002") { __typename } }');
    expect(literal?.variable).toBe('after');
    expect(literal?.literalCursor).toBe('r_1:000000000002');
    expect(oneLine(literal?.query)).toContain('roomEvents(roomId: "r_1", after: $after)');
    expect(valid(literal?.query ?? '')).toEqual([]);
  });

  it('does not read a key another union member uses for something else', ({ expect }) => {
    const plan = planResume(`subscription { roomEvents(roomId: "r") {
      ... on MessageSent { message { id } } ... on MemberJoined { message: user { id } }
    } }`);
    expect(oneLine(plan?.query)).toContain('resumableMessage: message { id }');
    expect(plan?.cursorOf({ roomEvents: { message: { id: 'bob' } } })).toBeUndefined();
  });

  it('picks a key the document does not use', ({ expect }) => {
    const plan = planResume('subscription { roomEvents(roomId: "r") { ... on MemberLeft { resumableMessage: at } } }');
    expect(oneLine(plan?.query)).toContain('resumableMessage1: message { id }');
    expect(valid(plan?.query ?? '')).toEqual([]);
  });

  it('rewrites documentEvents with afterVersion and reads only DocumentEdited versions', ({ expect }) => {
    const plan = planResume(`subscription Doc($id: ID!) { doc: documentEvents(documentId: $id) {
      __typename ... on DocumentEdited { version operation { retain insert delete } } ... on CursorMoved { version anchor }
    } }`);
    expect(plan?.query).toBe(
      squash(`subscription Doc($id: ID!, $afterVersion: Int) { doc: documentEvents(documentId: $id, afterVersion: $afterVersion) {
        __typename ... on DocumentEdited { version operation { retain insert delete } } ... on CursorMoved { version anchor }
        ... on DocumentEdited { resumableVersion: version }
      } }`),
    );
    expect(valid(plan?.query ?? '')).toEqual([]);
    expect(plan?.variable).toBe('afterVersion');
    const edited = { doc: { __typename: 'DocumentEdited', version: 4, resumableVersion: 4 } };
    expect(plan?.cursorOf(edited)).toBe(4);
    plan?.strip(edited);
    expect(edited).toEqual({ doc: { __typename: 'DocumentEdited', version: 4 } });
    expect(plan?.cursorOf({ doc: { __typename: 'CursorMoved', version: 9 } })).toBeUndefined();

    const own = planResume('subscription { documentEvents(documentId: "d") { ... on DocumentEdited { version } } }');
    expect(own?.query).not.toContain('resumable');
    expect(own?.cursorOf({ documentEvents: { version: 2 } })).toBe(2);
    expect(own?.compare(10, 9)).toBeGreaterThan(0);
  });

  it('orders message ids as numbers and as strings', ({ expect }) => {
    const plan = planResume('subscription { roomEvents(roomId: "r") { __typename } }');
    expect(plan?.compare('r_1:000000000010', 'r_1:000000000009')).toBeGreaterThan(0);
    expect(plan?.compare('10', '9')).toBeGreaterThan(0);
    expect(plan?.compare('r_1:000000000009', 'r_1:000000000009')).toBe(0);
  });

  it('passes other operations and unparsable documents through', ({ expect }) => {
    expect(planResume('query { me { id } }')).toBeNull();
    expect(planResume('subscription { serverStats { at } }')).toBeNull();
    expect(planResume('subscription {')).toBeNull();
    expect(planResume('subscription A { roomEvents(roomId: "r") { __typename } } query B { me { id } }', 'B')).toBeNull();
  });
});
