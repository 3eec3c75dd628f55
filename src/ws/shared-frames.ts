/**
 * Serialize-once delivery. Subscribers of the same room and operation shape share one result object (see
 * `graphql/shared-execution.ts`); graphql-ws would still `JSON.stringify` it once per socket. Its
 * `jsonMessageReplacer` swaps such a payload for a placeholder, so only the tiny envelope (`id`, `type`) is
 * stringified per socket, and `finishFrame` splices in the payload's JSON, computed once per result.
 *
 * graphql-ws calls `socket.send(stringifyMessage(message, replacer))` with nothing in between, so the payload
 * seen by the replacer is always the one of the frame handed to `finishFrame` next (single-threaded).
 */
const PLACEHOLDER = '\u0000shared-payload\u0000';
const PLACEHOLDER_JSON = JSON.stringify(PLACEHOLDER);

const serialized = new WeakMap<object, string>();
let pending: string | null = null;
let sentNext = false;

/** The payload's JSON, computed once per result object whichever socket asks first. */
function serializeOnce(value: object): string {
  let json = serialized.get(value);
  if (json === undefined) {
    json = JSON.stringify(value);
    serialized.set(value, json);
  }
  return json;
}

/** What every `next` frame of operation `id` starts with; computed once per operation, not per frame. */
export function nextFramePrefix(id: string): string {
  return `{"id":${JSON.stringify(id)},"type":"next","payload":`;
}

/**
 * Encoded frames per shared result, by operation prefix. Subscribers that use the same operation id (a generated
 * client's first subscription is "1", many apps pick a fixed id) then share one Buffer: no string concatenation and
 * no UTF-8 encoding per socket. A few prefixes per result at most, so clients with random ids (graphql-ws's default
 * UUIDs) cost a failed lookup, not a map entry each.
 */
const encodedFrames = new WeakMap<object, Map<string, Buffer>>();
const MAX_SHARED_PREFIXES = 4;

/** A graphql-transport-ws `next` frame, as graphql-ws would write it, from its operation's prefix. */
export function nextFrame(prefix: string, payload: object): Buffer | string {
  let byPrefix = encodedFrames.get(payload);
  const encoded = byPrefix?.get(prefix);
  if (encoded) return encoded;
  const frame = `${prefix}${serializeOnce(payload)}}`;
  if (!byPrefix) encodedFrames.set(payload, (byPrefix = new Map()));
  if (byPrefix.size >= MAX_SHARED_PREFIXES) return frame;
  const buffer = Buffer.from(frame);
  byPrefix.set(prefix, buffer);
  return buffer;
}

export function sharedPayloadReplacer(this: unknown, key: string, value: unknown): unknown {
  if (key !== 'payload' || typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  // Only graphql-ws's own envelope has a `type` next to `payload`; nested user data named "payload" is left alone.
  if (typeof this !== 'object' || this === null || (this as { type?: unknown }).type !== 'next') return value;
  sentNext = true;
  pending = serializeOnce(value);
  return PLACEHOLDER;
}

/** Whether the frame just finished was a `next` (a delivery); asked once per frame, right after `finishFrame`. */
export function wasNextFrame(): boolean {
  const was = sentNext;
  sentNext = false;
  return was;
}

/** The frame to write: the envelope with its shared payload spliced back in. */
export function finishFrame(data: string): string {
  if (pending === null) return data;
  const json = pending;
  pending = null;
  const at = data.lastIndexOf(PLACEHOLDER_JSON);
  return at < 0 ? data : data.slice(0, at) + json + data.slice(at + PLACEHOLDER_JSON.length);
}
