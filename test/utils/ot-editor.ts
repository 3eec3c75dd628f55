import { createClient, type Client } from 'graphql-ws';
import { onTestFinished } from 'vitest';
import WebSocket from 'ws';
import { OtClient, toOperationInput, type CommittedEdit, type OutgoingEdit, type TextOp } from '../../src/client/ot-client.ts';
import { DOCUMENT_EVENTS, editDocumentHttp, otComponents, type EditedPayload } from './documents.ts';
import { within } from './wait.ts';

export interface EditorOptions {
  name: string;
  token: string;
  userId: string;
  documentId: string;
  text: string;
  version: number;
  /** Where to connect and send, in order of preference; called again on every reconnect and retry (failover). */
  wsUrl: () => string;
  graphqlUrl: () => string;
  /** Keep retrying sends and resubscribing through failures (the fault test) instead of failing at once. */
  resilient?: boolean;
}

/**
 * An OT editor as an app would build one: `OtClient` fed by a `documentEvents` subscription over graphql-ws (the
 * library client, with its own retries), edits sent with `editDocument`. Received edits wait in `inbox` until
 * the test delivers them (`deliver`), so the schedule decides how stale each client's base versions are. The
 * subscription resumes with `afterVersion` = the last version received: graphql-ws re-sends the same payload
 * object on reconnect (pitfalls §26), and after an `error` (UNAVAILABLE while Redis is down) it is subscribed again.
 */
export class Editor {
  readonly client: OtClient;
  /** Committed edits received and not yet applied, in version order. */
  readonly inbox: CommittedEdit[] = [];
  /** Every version the subscription delivered, in arrival order (duplicates included, to be asserted away). */
  readonly seen: number[] = [];
  /** Versions acknowledged to this editor by `editDocument`. */
  readonly acknowledged: number[] = [];
  /** The clientEditId of each version received (null: none), to match acknowledged edits against the stream. */
  readonly received = new Map<number, string | null>();
  /** `clientEditId` of each acknowledged version. */
  readonly acknowledgedIds = new Map<number, string>();
  /** Subscription restarts after an error or completion. */
  resubscribes = 0;
  /** Sockets opened (graphql-ws `connected`): more than one means it reconnected and resumed with afterVersion. */
  connections = 0;
  joined: Promise<void>;
  #joined!: () => void;
  #ws: Client;
  #payload: { query: string; variables: { documentId: string; afterVersion: number } };
  #stop: (() => void) | null = null;
  #sending: Promise<void> | null = null;
  #disposed = false;
  #failure: Error | null = null;
  #ids = 0;

  constructor(readonly options: EditorOptions) {
    this.client = new OtClient({ text: options.text, version: options.version, newClientEditId: () => `${options.name}-${++this.#ids}` });
    this.joined = new Promise((resolve) => (this.#joined = resolve));
    this.#payload = { query: DOCUMENT_EVENTS, variables: { documentId: options.documentId, afterVersion: options.version } };
    this.#ws = createClient({
      url: () => options.wsUrl(),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${options.token}` },
      retryAttempts: options.resilient ? 1_000 : 0,
      shouldRetry: () => options.resilient === true,
      retryWait: async () => new Promise((resolve) => setTimeout(resolve, 100)),
      on: { connected: () => void (this.connections += 1) },
    });
    this.#subscribe();
    onTestFinished(() => this.dispose());
  }

  /** The subscription or a send failed for good (non-resilient editors). */
  get failure(): Error | null {
    return this.#failure;
  }

  /** The newest version received through the subscription. */
  get lastSeen(): number {
    return this.#payload.variables.afterVersion;
  }

  #subscribe(): void {
    this.#stop = this.#ws.subscribe<{ documentEvents: Record<string, unknown> }>(this.#payload, {
      next: ({ data, errors }) => {
        if (errors) return this.#failed(new Error(`${this.options.name}: ${JSON.stringify(errors)}`));
        const event = data!.documentEvents;
        if (event.__typename === 'EditorJoined' && (event.user as { id: string }).id === this.options.userId) this.#joined();
        if (event.__typename !== 'DocumentEdited') return;
        const edit = event as unknown as EditedPayload;
        this.seen.push(edit.version);
        this.received.set(edit.version, edit.clientEditId);
        if (edit.version <= this.#payload.variables.afterVersion) return;
        // Resume point for graphql-ws's own retries: it re-sends this very object.
        this.#payload.variables.afterVersion = edit.version;
        this.inbox.push({ version: edit.version, operation: otComponents(edit.operation) as TextOp, clientEditId: edit.clientEditId });
      },
      error: (error) => this.#failed(error instanceof Error ? error : new Error(JSON.stringify(error))),
      complete: () => this.#failed(new Error(`${this.options.name}: documentEvents completed`)),
    });
  }

  #failed(error: Error): void {
    if (this.#disposed) return;
    if (!this.options.resilient) {
      this.#failure ??= error;
      return;
    }
    this.resubscribes += 1;
    this.#stop?.();
    setTimeout(() => {
      if (!this.#disposed) this.#subscribe();
    }, 100);
  }

  /** Applies up to `count` received edits. */
  deliver(count = Infinity): void {
    for (let n = 0; n < count && this.inbox.length > 0; n++) this.client.receive(this.inbox.shift()!);
  }

  /** Sends the waiting edit, if any and none is in flight; a resilient editor retries it until acknowledged. */
  send(): void {
    if (this.#sending) return;
    const outgoing = this.client.takeOutgoing();
    if (!outgoing) return;
    const sending = this.#send(outgoing).finally(() => {
      if (this.#sending === sending) this.#sending = null;
    });
    this.#sending = sending;
  }

  async #send(outgoing: OutgoingEdit): Promise<void> {
    for (let attempt = 0; !this.#disposed; attempt++) {
      try {
        const response = await editDocumentHttp(
          this.options.graphqlUrl(),
          this.options.token,
          this.options.documentId,
          outgoing.baseVersion,
          toOperationInput(outgoing.operation),
          outgoing.clientEditId,
        );
        if (!response.errors) {
          const edit = response.data!.editDocument;
          if (edit.clientEditId !== outgoing.clientEditId)
            throw new Error(`reply for ${outgoing.clientEditId} carries ${edit.clientEditId}`);
          this.acknowledged.push(edit.version);
          this.acknowledgedIds.set(edit.version, outgoing.clientEditId);
          return;
        }
        throw new Error(`editDocument: ${JSON.stringify(response.errors)}`);
      } catch (error) {
        if (!this.options.resilient || attempt > 600) {
          this.#failure ??= error as Error;
          return;
        }
        // The same edit again (same clientEditId: committed at most once), after Redis or the instance is back.
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  /** Resolves once no send is in flight. */
  async settled(): Promise<void> {
    while (this.#sending) await this.#sending;
  }

  get sending(): boolean {
    return this.#sending !== null;
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#stop?.();
    void this.#ws.dispose();
  }
}

/** Waits (bounded) until the editor's own EditorJoined arrived: its subscription is live. */
export const live = async (editor: Editor, timeoutMs = 10_000) => within(editor.joined, timeoutMs, `${editor.options.name} live`);
