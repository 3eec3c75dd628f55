import { decodeBody, type BenchBody, type WireMessage } from '../protocol.ts';

export interface DecodedNext {
  message: WireMessage;
  body: BenchBody;
}

const CACHE_SIZE = 1_024;

/**
 * Every subscriber of a room receives the same `next` frame except for its own operation id (a random UUID per
 * socket, as graphql-ws clients make them). The generator cuts the subscriber's id out, parses each distinct rest
 * once and looks the others up: JSON.parse per delivery would make the generator the bottleneck long before the
 * server. Returns `undefined` for a frame that does not carry this operation id (someone else's frame), `null` for
 * one of ours that is not a MessageSent (MemberJoined and the like).
 */
export function createFrameDecoder(): (text: string, opId: string) => DecodedNext | null | undefined {
  const cache = new Map<string, DecodedNext | null>();
  return (text, opId) => {
    const quoted = `"${opId}"`;
    const at = text.indexOf(quoted);
    if (at < 0) return undefined;
    const key = text.slice(0, at) + text.slice(at + quoted.length);
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    const decoded = decode(text, opId);
    if (decoded === undefined) return undefined;
    cache.set(key, decoded);
    if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value ?? '');
    return decoded;
  };
}

function decode(text: string, opId: string): DecodedNext | null | undefined {
  const frame = JSON.parse(text) as { id?: string; payload?: { data?: { roomEvents?: { __typename?: string; message?: WireMessage } } } };
  if (frame.id !== opId) return undefined;
  const event = frame.payload?.data?.roomEvents;
  if (event?.__typename !== 'MessageSent' || !event.message) return null;
  const body = decodeBody(event.message.body);
  return body ? { message: event.message, body } : null;
}
