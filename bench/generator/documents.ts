/**
 * The `documents` scenario's load, in the generator process: one document, editors typing through a real OtClient
 * (so baseVersions lag as they do in an editor and concurrent edits are transformed), readers that only watch.
 * Every socket checks that versions arrive once and consecutively; at the end every editor must hold the server's
 * `document { text version }`. Latency is from an edit's send (by its clientEditId) to its receipt at each reader.
 */
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { OtClient, fromOperationFields, toOperationInput, type TextOp, type TextOpFields } from '../../src/client/ot-client.ts';
import { cpuMs } from '../processes.ts';
import { SUBPROTOCOL, operationId, type MutationTransport } from '../protocol.ts';
import { signToken } from '../tokens.ts';
import type { PhaseResult } from './phase.ts';
import { createHistogram, recordLatency } from './histogram.ts';
import { pool } from './pool.ts';
import { createGraphqlHttp, createRoom, type MutationClient } from './publisher.ts';

const CREATE_DOCUMENT = 'mutation Doc($roomId: ID!) { createDocument(roomId: $roomId, title: "bench", text: "") { id version } }';
const EDIT =
  'mutation Edit($documentId: ID!, $baseVersion: Int!, $operation: [TextOpInput!]!, $clientEditId: ID) { editDocument(documentId: $documentId, baseVersion: $baseVersion, operation: $operation, clientEditId: $clientEditId) { version } }';
const EVENTS =
  'subscription Events($documentId: ID!, $afterVersion: Int) { documentEvents(documentId: $documentId, afterVersion: $afterVersion) { __typename ... on DocumentEdited { version clientEditId operation { retain insert delete } } } }';
const READ = 'query Read($id: ID!) { document(id: $id) { text version } }';

export interface DocumentsRequest {
  graphqlUrl: string;
  wsUrl: string;
  transport: MutationTransport;
  secret: string;
  editors: number;
  /** Local edits per editor per second (typing); the OtClient composes those made while one is in flight. */
  editsPerSec: number;
  readers: number;
  seconds: number;
  serverPids: number[];
  redisPid: number | null;
  openConcurrency: number;
  timeoutMs: number;
  drainTimeoutMs: number;
}

interface EditedFields {
  __typename: string;
  version?: number;
  clientEditId?: string | null;
  operation?: TextOpFields[];
}

interface Reader {
  socket: WebSocket;
  last: number;
}

interface Editor {
  ot: OtClient;
  ws: Client;
  mutations: MutationClient | null;
  timer: NodeJS.Timeout | null;
}

const sumOrNull = (values: Array<number | null>): number | null =>
  values.some((v) => v === null) ? null : values.reduce<number>((a, v) => a + (v ?? 0), 0);
/** Retries of UNAVAILABLE edits over the whole run, past which the run fails rather than spin. */
const MAX_RETRIES = 100_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Typing: mostly an insert at a random place, sometimes a backspace. Positions are code points (ASCII here). */
function randomEdit(text: string): TextOp {
  const length = text.length;
  if (length > 0 && Math.random() < 0.2) return [Math.floor(Math.random() * length), { d: 1 }];
  const at = Math.floor(Math.random() * (length + 1));
  const char = String.fromCharCode(97 + Math.floor(Math.random() * 26));
  return at === 0 ? [char] : [at, char];
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

export async function runDocuments(req: DocumentsRequest): Promise<PhaseResult> {
  const problems: string[] = [];
  const note = (problem: string): void => void (problems.length < 20 && problems.push(problem));
  const latency = createHistogram();
  const sentAt = new Map<string, number>();
  const closes: Record<string, number> = {};
  const otherFrames: Record<string, number> = {};
  const counters = {
    deliveries: 0,
    duplicates: 0,
    gaps: 0,
    bytes: 0,
    messageBytes: 0,
    lastDeliveryAt: 0,
    measuredFrom: Infinity,
    errors: 0,
    errorSample: null as string | null,
    localEdits: 0,
    retries: 0,
  };
  const readers: Reader[] = [];
  const editors: Editor[] = [];
  const admin = createGraphqlHttp(req.graphqlUrl, await signToken(req.secret, 'bench-admin'), 4);
  try {
    const roomId = await createRoom(admin);
    const created = (await admin.post(CREATE_DOCUMENT, { roomId })) as { data?: { createDocument?: { id: string } } };
    const documentId = created.data?.createDocument?.id;
    if (!documentId) throw new Error(`createDocument failed: ${JSON.stringify(created)}`);

    // Readers: raw sockets (as the harness's subscribers), each its own user and operation id, from version 0.
    const openReader = async (i: number): Promise<void> => {
      const token = await signToken(req.secret, `bench-r${i}`);
      await new Promise<void>((resolve, reject) => {
        const socket = new WebSocket(req.wsUrl, SUBPROTOCOL, {
          perMessageDeflate: false,
          handshakeTimeout: req.timeoutMs,
          skipUTF8Validation: true,
        });
        const opId = operationId();
        const reader: Reader = { socket, last: 0 };
        let acked = false;
        const timer = setTimeout(() => {
          socket.terminate();
          reject(new Error(`reader ${i}: no connection_ack within ${req.timeoutMs} ms`));
        }, req.timeoutMs);
        socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
        socket.on('error', (error) => !acked && reject(error));
        socket.on('close', (code) => {
          clearTimeout(timer);
          if (!acked) return reject(new Error(`reader ${i}: closed ${code} before connection_ack`));
          closes[code] = (closes[code] ?? 0) + 1;
        });
        socket.on('message', (data: Buffer) => {
          counters.bytes += data.length;
          const frame = JSON.parse(data.toString('utf8')) as {
            type: string;
            id?: string;
            payload?: { data?: { documentEvents?: EditedFields }; errors?: unknown };
          };
          if (frame.type === 'ping') return socket.send('{"type":"pong"}');
          if (frame.type === 'connection_ack') {
            acked = true;
            clearTimeout(timer);
            socket.send(
              JSON.stringify({ id: opId, type: 'subscribe', payload: { query: EVENTS, variables: { documentId, afterVersion: 0 } } }),
            );
            readers.push(reader);
            return resolve();
          }
          const event = frame.type === 'next' && frame.id === opId ? frame.payload?.data?.documentEvents : undefined;
          if (!event) {
            const kind =
              frame.type === 'next' && frame.id !== opId
                ? 'next (other id)'
                : frame.type === 'next'
                  ? `next (${JSON.stringify(frame.payload?.errors ?? 'no data').slice(0, 80)})`
                  : frame.type;
            otherFrames[kind] = (otherFrames[kind] ?? 0) + 1;
            return;
          }
          if (event.__typename !== 'DocumentEdited' || event.version === undefined) return;
          const now = performance.now();
          if (event.version <= reader.last) {
            counters.duplicates += 1;
            note(`reader ${i} got version ${event.version} after ${reader.last}`);
            return;
          }
          if (event.version !== reader.last + 1) {
            counters.gaps += 1;
            note(`reader ${i} got version ${event.version} after ${reader.last} (gap)`);
          }
          reader.last = event.version;
          const sent = event.clientEditId ? sentAt.get(event.clientEditId) : undefined;
          if (sent === undefined) return; // the probe edit: not measured
          counters.deliveries += 1;
          counters.messageBytes += data.length;
          counters.lastDeliveryAt = now;
          recordLatency(latency, now - sent);
        });
      });
    };
    await pool(
      Array.from({ length: req.readers }, (_, i) => i),
      req.openConcurrency,
      openReader,
    );

    const send = async (
      editor: Editor,
      outgoing: { baseVersion: number; operation: TextOp; clientEditId: string },
      retry = false,
    ): Promise<void> => {
      const variables = {
        documentId,
        baseVersion: outgoing.baseVersion,
        operation: toOperationInput(outgoing.operation),
        clientEditId: outgoing.clientEditId,
      };
      // A retry keeps the first send's time: latency is what the typist waited.
      if (!retry) sentAt.set(outgoing.clientEditId, performance.now());
      try {
        const result = editor.mutations
          ? await editor.mutations.post(EDIT, variables)
          : await new Promise<{ errors?: unknown }>((resolve, reject) => {
              let last: { errors?: unknown } = {};
              editor.ws.subscribe(
                { query: EDIT, variables },
                { next: (r) => void (last = r), error: reject, complete: () => resolve(last) },
              );
            });
        if (result.errors) {
          // The contract's answer to UNAVAILABLE (e.g. the commit lost too many races): resend the same edit, as an
          // editor does; its clientEditId makes it commit once.
          const unavailable = JSON.stringify(result.errors).includes('"UNAVAILABLE"');
          if (unavailable && counters.retries < MAX_RETRIES) {
            counters.retries += 1;
            await sleep(10 + Math.random() * 40);
            return await send(editor, editor.ot.resend() ?? outgoing, true);
          }
          throw new Error(JSON.stringify(result.errors).slice(0, 200));
        }
      } catch (error) {
        counters.errors += 1;
        counters.errorSample ??= error instanceof Error ? error.message : String(error);
      }
    };
    const flush = (editor: Editor): void => {
      const outgoing = editor.ot.takeOutgoing();
      if (outgoing) void send(editor, outgoing);
    };

    // Editors: graphql-ws clients, each subscribed from version 0 with an OtClient over the empty document.
    await pool(
      Array.from({ length: req.editors }, (_, i) => i),
      req.openConcurrency,
      async (i) => {
        const token = await signToken(req.secret, `bench-e${i}`);
        const ws = createClient({
          url: req.wsUrl,
          webSocketImpl: WebSocket,
          lazy: false,
          retryAttempts: 0,
          connectionParams: { authorization: `Bearer ${token}` },
        });
        const editor: Editor = {
          ot: new OtClient({ text: '', version: 0 }),
          ws,
          mutations: req.transport === 'http' ? createGraphqlHttp(req.graphqlUrl, token, 1) : null,
          timer: null,
        };
        editors.push(editor);
        ws.subscribe<{ documentEvents: EditedFields }>(
          { query: EVENTS, variables: { documentId, afterVersion: 0 } },
          {
            next: (result) => {
              const event = result.data?.documentEvents;
              if (!event || event.__typename !== 'DocumentEdited' || event.version === undefined) return;
              try {
                if (
                  !editor.ot.receive({
                    version: event.version,
                    operation: fromOperationFields(event.operation ?? []),
                    clientEditId: event.clientEditId ?? null,
                  })
                ) {
                  counters.duplicates += 1;
                  note(`editor ${i} got version ${event.version} again`);
                }
              } catch (error) {
                counters.gaps += 1;
                note(`editor ${i}: ${error instanceof Error ? error.message : String(error)}`);
              }
              flush(editor);
            },
            error: (error) => note(`editor ${i} subscription failed: ${JSON.stringify(error).slice(0, 200)}`),
            complete: () => note(`editor ${i} subscription completed`),
          },
        );
      },
    );

    // The probe: version 1, from the admin, until every socket saw it (its subscription is live).
    const probe = await admin.post(EDIT, { documentId, baseVersion: 0, operation: [{ insert: 'probe ' }], clientEditId: operationId() });
    if (probe.errors) throw new Error(`probe edit failed: ${JSON.stringify(probe.errors)}`);
    // A subscription the server ended (error, complete) never sees the probe: fail now rather than wait it out.
    const ended = (): number => (otherFrames.error ?? 0) + (otherFrames.complete ?? 0);
    const everyoneAt = (version: number): boolean =>
      readers.every((r) => r.last >= version) && editors.every((e) => e.ot.version >= version);
    // Opening the readers fans out ~readers²/2 EditorJoined (one user per socket): the probe waits behind that backlog.
    if (!(await waitFor(() => everyoneAt(1) || ended() > 0, req.drainTimeoutMs)) || ended() > 0) {
      throw new Error(
        `setup: ${readers.filter((r) => r.last < 1).length} readers and ${editors.filter((e) => e.ot.version < 1).length} editors never saw the probe edit within ${req.drainTimeoutMs} ms (closes ${JSON.stringify(closes)}, other frames ${JSON.stringify(otherFrames)}; ${problems.join('; ')})`,
      );
    }

    // Typing: each editor every 1/rate s, starting at a random offset so they do not type in lockstep.
    const cpu0 = process.cpuUsage();
    const wall0 = performance.now();
    const server0 = sumOrNull(req.serverPids.map(cpuMs));
    const redis0 = req.redisPid === null ? null : cpuMs(req.redisPid);
    const period = 1_000 / req.editsPerSec;
    for (const editor of editors) {
      const start = setTimeout(() => {
        const type = (): void => {
          counters.localEdits += 1;
          editor.ot.applyLocal(randomEdit(editor.ot.text));
          flush(editor);
        };
        type();
        editor.timer = setInterval(type, period);
      }, Math.random() * period);
      editor.timer = start;
    }
    await sleep(req.seconds * 1_000);
    for (const editor of editors) {
      if (editor.timer) clearInterval(editor.timer);
      editor.timer = null;
    }
    const publishMs = performance.now() - wall0;

    // Drain: every own edit acknowledged, then every socket at the server's final version.
    const settled = await waitFor(() => editors.every((e) => !e.ot.pending) || counters.errors > 0, req.drainTimeoutMs);
    const read = (await admin.post(READ, { id: documentId })) as { data?: { document?: { text: string; version: number } | null } };
    const final = read.data?.document;
    if (!final) throw new Error(`document read failed: ${JSON.stringify(read)}`);
    const drained = settled && (await waitFor(() => everyoneAt(final.version), req.drainTimeoutMs));
    const server1 = sumOrNull(req.serverPids.map(cpuMs));
    const redis1 = req.redisPid === null ? null : cpuMs(req.redisPid);
    const cpu = process.cpuUsage(cpu0);
    const wallMs = performance.now() - wall0;

    if (!settled) note(`${editors.filter((e) => e.ot.pending).length} editors still had unacknowledged edits`);
    const diverged = editors.filter((e) => e.ot.version !== final.version || e.ot.text !== final.text).length;
    if (diverged)
      note(
        `${diverged} of ${editors.length} editors did not converge to document { text version } (version ${final.version}, ${final.text.length} chars)`,
      );
    const lagging = readers.filter((r) => r.last !== final.version).length;
    if (lagging) note(`${lagging} readers did not reach version ${final.version}`);
    const edits = final.version - 1;
    const expected = edits * readers.length;
    const durationMs = Math.max((counters.lastDeliveryAt || performance.now()) - wall0, 1);
    return {
      load: { kind: 'edits', editors: req.editors, editsPerSec: req.editsPerSec, readers: req.readers },
      warmup: false,
      transport: req.transport,
      subscribers: readers.length,
      rooms: 1,
      offeredMessagesPerSec: req.editors * req.editsPerSec,
      offeredDeliveriesPerSec: null,
      messagesSent: edits,
      publishErrors: counters.errors,
      publishErrorSample: counters.errorSample,
      expectedDeliveries: expected,
      deliveries: counters.deliveries,
      lost: Math.max(0, expected - counters.deliveries - counters.duplicates),
      duplicates: counters.duplicates,
      outOfOrder: counters.gaps,
      misrouted: 0,
      bytesReceived: counters.bytes,
      messageBytes: counters.messageBytes,
      durationMs,
      publishMs,
      maxSendLagMs: 0,
      latency,
      generatorCpuMs: (cpu.user + cpu.system) / 1000,
      serverCpuMs: server0 !== null && server1 !== null ? server1 - server0 : null,
      redisCpuMs: redis0 !== null && redis1 !== null ? redis1 - redis0 : null,
      wallMs,
      closes,
      otherFrames,
      drained,
      reconnectFailures: 0,
      catchUpMs: null,
      documents: {
        retries: counters.retries,
        localEdits: counters.localEdits,
        editsCommitted: edits,
        finalVersion: final.version,
        finalChars: [...final.text].length,
        editors: editors.length,
        readers: readers.length,
        problems,
      },
    };
  } finally {
    for (const editor of editors) {
      if (editor.timer) clearInterval(editor.timer);
      editor.mutations?.close();
      void editor.ws.dispose();
    }
    for (const reader of readers) reader.socket.terminate();
    admin.close();
  }
}
