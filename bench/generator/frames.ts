import { decodeBody, type BenchBody, type WireMessage } from '../protocol.ts';

export interface DecodedNext {
  opId: string;
  message: WireMessage;
  body: BenchBody;
}

const CACHE_SIZE = 256;

/**
 * Every subscriber of a room receives the byte-identical `next` frame, so the generator parses each distinct frame
 * once and looks the rest up: without this, JSON.parse per delivery makes the generator the bottleneck long
 * before the server. `null` for frames that are not a MessageSent `next` (MemberJoined and the like).
 */
export function createFrameDecoder(): (text: string) => DecodedNext | null {
  const cache = new Map<string, DecodedNext | null>();
  return (text) => {
    const hit = cache.get(text);
    if (hit !== undefined) return hit;
    const decoded = decode(text);
    cache.set(text, decoded);
    if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value ?? '');
    return decoded;
  };
}

function decode(text: string): DecodedNext | null {
  const frame = JSON.parse(text) as { id?: string; payload?: { data?: { roomEvents?: { __typename?: string; message?: WireMessage } } } };
  const event = frame.payload?.data?.roomEvents;
  if (typeof frame.id !== 'string' || event?.__typename !== 'MessageSent' || !event.message) return null;
  const body = decodeBody(event.message.body);
  return body ? { opId: frame.id, message: event.message, body } : null;
}
