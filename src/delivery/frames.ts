/**
 * graphql-transport-ws `next` frames built from a shared payload. The payload's JSON is computed once per result
 * object, whichever socket asks first; a socket's frame is its operation's prefix (`nextFramePrefix`, computed once
 * per operation) + that JSON + `}`. graphql-ws clients give every operation a random UUID (pitfalls §26), so
 * the per-socket part is a concatenation, never a stringify.
 */
export function nextFramePrefix(id: string): string {
  return `{"id":${JSON.stringify(id)},"type":"next","payload":`;
}

export interface FrameBuilderOptions {
  /**
   * Encoded frames kept per result, one per operation prefix: subscribers that use the same operation id (a
   * generated client's first subscription is "1") then share one Buffer, no concatenation and no UTF-8 encoding
   * per socket. Past this many prefixes (random ids) a frame is built per socket and not kept. @default 4
   */
  maxSharedPrefixes?: number;
}

/** One per delivery engine: its caches are weak on the result objects, so they live as long as the results. */
export class FrameBuilder {
  readonly #payloads = new WeakMap<object, string>();
  readonly #encoded = new WeakMap<object, Map<string, Buffer>>();
  readonly #maxSharedPrefixes: number;

  constructor({ maxSharedPrefixes = 4 }: FrameBuilderOptions = {}) {
    this.#maxSharedPrefixes = maxSharedPrefixes;
  }

  /** The payload's JSON, computed once per result object. */
  payload(result: object): string {
    let json = this.#payloads.get(result);
    if (json === undefined) {
      json = JSON.stringify(result);
      this.#payloads.set(result, json);
    }
    return json;
  }

  /** The `next` frame of the operation whose prefix is `prefix`, byte for byte what graphql-ws would write. */
  next(prefix: string, result: object): Buffer | string {
    let byPrefix = this.#encoded.get(result);
    const encoded = byPrefix?.get(prefix);
    if (encoded) return encoded;
    const frame = `${prefix}${this.payload(result)}}`;
    if (!byPrefix) this.#encoded.set(result, (byPrefix = new Map()));
    if (byPrefix.size >= this.#maxSharedPrefixes) return frame;
    const buffer = Buffer.from(frame);
    byPrefix.set(prefix, buffer);
    return buffer;
  }
}
