/**
 * The wire shapes every server under test must speak: the project, and both baselines.
 * Every server gets the same documents, so that none is measured on a cheaper selection set.
 */
import { randomUUID } from 'node:crypto';

export const SUBPROTOCOL = 'graphql-transport-ws';

/**
 * What an Apollo Client (or codegen's client preset) app sends: a named fragment with `__typename`, copied from
 * issue 11's measurement of the README's Apollo setup, with the `$after` the README's app now declares (what
 * resumable() sends for any roomEvents document; issue 11's figures were taken without it, the selection is the same).
 * Kept byte for byte: a server's fast path that only recognises inline selections must show up here.
 */
export const FRAGMENT_DOCUMENT =
  'subscription Watch($roomId: ID!, $after: ID) { roomEvents(roomId: $roomId, after: $after) { __typename ...RoomEventFields } } fragment RoomEventFields on RoomEvent { ... on MessageSent { message { id roomId body sentAt } } }';

/** The same selection written inline (and with `after`, which the reconnect storm needs). */
export const INLINE_DOCUMENT =
  'subscription Watch($roomId: ID!, $after: ID) { roomEvents(roomId: $roomId, after: $after) { __typename ... on MessageSent { message { id roomId body sentAt } } } }';

export type DocumentKind = 'fragment' | 'inline';
export const DOCUMENT_KINDS: readonly DocumentKind[] = ['fragment', 'inline'];
export const SUBSCRIPTION_DOCUMENTS: Record<DocumentKind, string> = { fragment: FRAGMENT_DOCUMENT, inline: INLINE_DOCUMENT };

/** How the publisher sends `sendMessage`: HTTP (Apollo's HttpLink, the README's setup) or over its WebSocket. */
export type MutationTransport = 'http' | 'ws';
export const MUTATION_TRANSPORTS: readonly MutationTransport[] = ['http', 'ws'];

export const CREATE_ROOM_MUTATION = 'mutation { createRoom(name: "bench") { id } }';

export const SEND_MESSAGE_MUTATION = 'mutation Send($roomId: ID!, $body: String!) { sendMessage(roomId: $roomId, body: $body) { id } }';

/**
 * A new operation id the way graphql-ws clients make them (`generateID`: a random v4 UUID), so that no server can
 * share a frame between sockets by id.
 */
export const operationId = (): string => randomUUID();

/** What the sender puts in every message body; `t` is a cross-process wall clock (timeOrigin + now). */
export interface BenchBody {
  /** The message's intended send time (its slot in the schedule), not when it left: latency is measured from it. */
  t: number;
  /** `p`: a probe that proves the subscription is live; `m`: a measured message; `w`: warm-up. */
  k: 'p' | 'm' | 'w';
}

export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

export function encodeBody(kind: BenchBody['k'], intendedAt: number = nowMs()): string {
  return JSON.stringify({ t: intendedAt, k: kind } satisfies BenchBody);
}

export function decodeBody(body: string): BenchBody | null {
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed !== 'object' || parsed === null) return null;
    const { t, k } = parsed as Record<string, unknown>;
    return typeof t === 'number' && (k === 'p' || k === 'm' || k === 'w') ? { t, k } : null;
  } catch {
    return null;
  }
}

/** The fields both documents select. */
export interface WireMessage {
  id: string;
  roomId: string;
  body: string;
  sentAt: string;
}

/** Same format as the project's ids, so string order is send order in every server. */
export function formatMessageId(roomId: string, seq: number): string {
  return `${roomId}:${String(seq).padStart(12, '0')}`;
}
