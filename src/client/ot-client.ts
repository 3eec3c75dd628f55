/**
 * A standard OT client for `editDocument` / `documentEvents` (issue 12): pure TypeScript over `ot-text-unicode`,
 * with no server or transport imports, for a browser editor, an app and the tests alike.
 *
 * - Own edits apply to the local text at once (`applyLocal`).
 * - One edit is in flight at a time (`takeOutgoing` hands it out with its `baseVersion` and `clientEditId`); the
 *   rest are composed into one buffered edit, sent when the in-flight one is acknowledged.
 * - Committed edits are fed in version order (`receive`). The client's own, recognised by `clientEditId`,
 *   acknowledge the in-flight edit; the others are transformed against the in-flight and buffered edits and
 *   applied. The server transforms a new edit over committed ones with side 'right'; here the committed edit
 *   takes the mirror side ('left') against pending ones, so both sides compute the same text (TP1).
 *
 * Positions count Unicode code points (pitfalls §29): convert a textarea's UTF-16 offsets at the edge.
 */
import { type, type TextOp } from 'ot-text-unicode';

export type { TextOp } from 'ot-text-unicode';

/** A committed edit as `documentEvents` / `editDocument` deliver it, with the operation in ot-text-unicode form. */
export interface CommittedEdit {
  version: number;
  operation: TextOp;
  clientEditId: string | null;
}

/** What to send as `editDocument(documentId, baseVersion, operation, clientEditId)`. */
export interface OutgoingEdit {
  baseVersion: number;
  operation: TextOp;
  clientEditId: string;
}

/** One component as GraphQL carries it: exactly one field set. */
export interface TextOpFields {
  retain?: number | null;
  insert?: string | null;
  delete?: number | null;
}

export interface OtClientOptions {
  /** `document { text version }` as read from the server. */
  text: string;
  version: number;
  /** A fresh, unique id for each sent edit. @default crypto.randomUUID() where available */
  newClientEditId?: () => string;
}

// Browsers offer randomUUID only in secure contexts (https, localhost); a page on a LAN address is not one.
const randomId = (): string =>
  typeof globalThis.crypto?.randomUUID === 'function'
    ? globalThis.crypto.randomUUID()
    : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}-${Math.random().toString(36).slice(2)}`;

/** ot-text-unicode components -> GraphQL `TextOpInput` objects, one for one. */
export function toOperationInput(op: TextOp): TextOpFields[] {
  return op.map((component) => {
    if (typeof component === 'number') return { retain: component };
    if (typeof component === 'string') return { insert: component };
    return { delete: typeof component.d === 'number' ? component.d : [...component.d].length };
  });
}

/** GraphQL `TextOpComponent` objects -> ot-text-unicode components. */
export function fromOperationFields(fields: readonly TextOpFields[]): TextOp {
  return fields.map((field): TextOp[number] => {
    if (typeof field.insert === 'string') return field.insert;
    if (typeof field.retain === 'number') return field.retain;
    return { d: field.delete ?? 0 };
  });
}

export class OtClient {
  #text: string;
  #version: number;
  /** `op` follows the local text; `sent` is the request as first sent, for a retry that must be the same. */
  #inflight: { op: TextOp; clientEditId: string; sent: OutgoingEdit | null } | null = null;
  #buffer: TextOp | null = null;
  readonly #newId: () => string;

  constructor({ text, version, newClientEditId = randomId }: OtClientOptions) {
    this.#text = text;
    this.#version = version;
    this.#newId = newClientEditId;
  }

  /** The local text: the committed text with every pending own edit applied. */
  get text(): string {
    return this.#text;
  }

  /** The version of the newest committed edit this client has applied. */
  get version(): number {
    return this.#version;
  }

  /** True while an own edit is unacknowledged or waiting to be sent. */
  get pending(): boolean {
    return this.#inflight !== null || this.#buffer !== null;
  }

  /** Applies an own edit (against the current local text) at once and queues it for sending. */
  applyLocal(operation: TextOp): void {
    const op = type.normalize(operation);
    if (op.length === 0) return;
    this.#text = type.apply(this.#text, op);
    if (this.#inflight === null) this.#inflight = { op, clientEditId: this.#newId(), sent: null };
    else {
      const buffered = this.#buffer === null ? op : type.normalize(type.compose(this.#buffer, op));
      this.#buffer = buffered.length === 0 ? null : buffered;
    }
  }

  /**
   * The edit to send now, if one is waiting and none is unacknowledged; marks it sent. After a failed send that
   * may have been committed, `resend` hands the same edit again (same clientEditId, so it commits once).
   */
  takeOutgoing(): OutgoingEdit | null {
    if (this.#inflight !== null && this.#inflight.sent === null && this.#inflight.op.length === 0) {
      // Concurrent edits undid it before it left (e.g. both deleted the same text): nothing to send.
      this.#promoteBuffer();
    }
    const inflight = this.#inflight;
    if (inflight === null || inflight.sent !== null) return null;
    inflight.sent = { baseVersion: this.#version, operation: inflight.op, clientEditId: inflight.clientEditId };
    return inflight.sent;
  }

  /**
   * The unacknowledged edit exactly as first sent, for a retry after a lost reply or an UNAVAILABLE: the server
   * answers a committed one from its clientEditId, and transforms an uncommitted one from its baseVersion.
   */
  resend(): OutgoingEdit | null {
    return this.#inflight?.sent ?? null;
  }

  #promoteBuffer(): void {
    this.#inflight = this.#buffer === null ? null : { op: this.#buffer, clientEditId: this.#newId(), sent: null };
    this.#buffer = null;
  }

  /**
   * Feeds the next committed edit. Versions must come in order: an already applied version is ignored (a
   * replay overlap) and returns false; a gap throws, since the caller must fetch the missing edits first.
   */
  receive(edit: CommittedEdit): boolean {
    if (edit.version <= this.#version) return false;
    if (edit.version !== this.#version + 1) throw new Error(`expected version ${this.#version + 1}, got ${edit.version}`);
    const inflight = this.#inflight;
    if (inflight !== null && edit.clientEditId !== null && edit.clientEditId === inflight.clientEditId) {
      // The server's form of our in-flight edit: our text already has its effect.
      this.#version = edit.version;
      this.#promoteBuffer();
      return true;
    }
    let incoming = edit.operation;
    if (inflight !== null) {
      const transformed = type.transform(inflight.op, incoming, 'right');
      incoming = type.transform(incoming, inflight.op, 'left');
      inflight.op = transformed;
    }
    if (this.#buffer !== null) {
      const transformed = type.transform(this.#buffer, incoming, 'right');
      incoming = type.transform(incoming, this.#buffer, 'left');
      this.#buffer = transformed.length === 0 ? null : transformed;
    }
    this.#text = type.apply(this.#text, incoming);
    this.#version = edit.version;
    return true;
  }
}
