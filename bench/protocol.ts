/**
 * The wire shapes every server under test must speak: the project, and both baselines.
 * One subscription document for all three so that no server is measured on a cheaper selection set.
 */
export const SUBPROTOCOL = 'graphql-transport-ws';

export const ROOM_EVENTS_SUBSCRIPTION =
  'subscription($r: ID!, $after: ID) { roomEvents(roomId: $r, after: $after) { __typename ... on MessageSent { message { id roomId body sentAt author { id name } } } } }';

export const CREATE_ROOM_MUTATION = 'mutation { createRoom(name: "bench") { id } }';

export const SEND_MESSAGE_MUTATION = 'mutation($r: ID!, $b: String!) { sendMessage(roomId: $r, body: $b) { id } }';

/** What the sender puts in every message body; `t` is a cross-process wall clock (timeOrigin + now). */
export interface BenchBody {
  t: number;
  /** `p`: a probe that proves the subscription is live; `m`: a measured message. */
  k: 'p' | 'm';
}

export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

export function encodeBody(kind: BenchBody['k']): string {
  return JSON.stringify({ t: nowMs(), k: kind } satisfies BenchBody);
}

export function decodeBody(body: string): BenchBody | null {
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed !== 'object' || parsed === null) return null;
    const { t, k } = parsed as Record<string, unknown>;
    return typeof t === 'number' && (k === 'p' || k === 'm') ? { t, k } : null;
  } catch {
    return null;
  }
}

export interface WireMessage {
  id: string;
  roomId: string;
  body: string;
  sentAt: string;
  author: { id: string; name: string };
}

/** Same format as the project's ids, so string order is send order in every server. */
export function formatMessageId(roomId: string, seq: number): string {
  return `${roomId}:${String(seq).padStart(12, '0')}`;
}
