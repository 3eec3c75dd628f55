import type WebSocket from 'ws';
import { cpuMs } from '../processes.ts';
import type { BenchBody, DocumentKind, MutationTransport } from '../protocol.ts';
import { signToken } from '../tokens.ts';
import { runDocuments, type DocumentsRequest } from './documents.ts';
import { createFrameDecoder, type DecodedNext } from './frames.ts';
import { createHistogram, recordLatency, type Histogram } from './histogram.ts';
import { createGraphqlHttp, publish, publishOnce, publishPaced, type MutationClient, type PublishOutcome } from './publisher.ts';
import type { Load, PhaseResult } from './phase.ts';
import { pool } from './pool.ts';
import { openSubscriber } from './subscriber.ts';
import { createGraphqlWs } from './ws-mutations.ts';

export interface OpenRequest {
  /** Subscribers per (server url, room). */
  groups: Array<{ url: string; roomId: string; count: number }>;
  secret: string;
  document: DocumentKind;
  /**
   * Subscriber i of this request is user `bench-s<userOffset + i>`: one user per socket, as real clients are, so
   * every socket is a presence member of its room (MemberJoined fans out while sockets open; that is not measured).
   */
  userOffset: number;
  /** Source addresses, used round-robin (several lift the ~28k ephemeral ports of one source address). */
  localAddresses: string[];
  concurrency: number;
  timeoutMs: number;
}

export type { Load, PhaseResult } from './phase.ts';

export interface PhaseRequest {
  /** GraphQL endpoints of the instance that receives the mutations. */
  graphqlUrl: string;
  wsUrl: string;
  transport: MutationTransport;
  secret: string;
  load: Load;
  seconds: number;
  /** A warm-up phase: same load, its own body kind, checked for loss like any other. */
  warmup: boolean;
  /** Processes whose CPU time (/proc/<pid>/stat) is read at the phase's start and end. */
  serverPids: number[];
  redisPid: number | null;
  /** Overall bound on waiting for deliveries after the last ack. */
  drainTimeoutMs: number;
  /** Stop waiting when nothing arrived for this long. */
  idleTimeoutMs: number;
}

interface Sub {
  url: string;
  roomId: string;
  token: string;
  localAddress: string | undefined;
  document: DocumentKind;
  socket: WebSocket | null;
  lastId: string | null;
  measured: number;
  probed: boolean;
}

interface Counters {
  kind: BenchBody['k'];
  deliveries: number;
  duplicates: number;
  outOfOrder: number;
  misrouted: number;
  bytes: number;
  messageBytes: number;
  lastDeliveryAt: number;
  latency: Histogram;
  closes: Record<string, number>;
  otherFrames: Record<string, number>;
}

const freshCounters = (kind: BenchBody['k']): Counters => ({
  kind,
  deliveries: 0,
  duplicates: 0,
  outOfOrder: 0,
  misrouted: 0,
  bytes: 0,
  messageBytes: 0,
  lastDeliveryAt: 0,
  latency: createHistogram(),
  closes: {},
  otherFrames: {},
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const sumOrNull = (values: Array<number | null>): number | null =>
  values.some((v) => v === null) ? null : values.reduce<number>((a, v) => a + (v ?? 0), 0);

/** The load generator: many cheap raw-ws subscribers plus one publisher, with every delivery checked. */
export function createGenerator() {
  const subs: Sub[] = [];
  const decode = createFrameDecoder();
  let counters = freshCounters('m');

  function onMessage(sub: Sub, event: DecodedNext, bytes: number): void {
    counters.bytes += bytes;
    const { id, roomId } = event.message;
    if (roomId !== sub.roomId) counters.misrouted += 1;
    // Ids are ordered per room in every server, so the last id seen catches duplicates and reordering without
    // keeping every id (millions per run).
    if (sub.lastId !== null && id <= sub.lastId) {
      if (id === sub.lastId) counters.duplicates += 1;
      else counters.outOfOrder += 1;
      return;
    }
    sub.lastId = id;
    if (event.body.k === 'p') {
      sub.probed = true;
      return;
    }
    if (event.body.k !== counters.kind) return;
    sub.measured += 1;
    counters.deliveries += 1;
    counters.messageBytes += bytes;
    const now = performance.now();
    counters.lastDeliveryAt = now;
    recordLatency(counters.latency, performance.timeOrigin + now - event.body.t);
  }

  async function connect(sub: Sub, timeoutMs: number): Promise<void> {
    const socket = await openSubscriber(
      {
        url: sub.url,
        roomId: sub.roomId,
        token: sub.token,
        after: sub.lastId,
        document: sub.document,
        timeoutMs,
        ...(sub.localAddress ? { localAddress: sub.localAddress } : {}),
      },
      {
        decode,
        onMessage: (event, bytes) => onMessage(sub, event, bytes),
        onOtherFrame: (type, bytes) => {
          counters.bytes += bytes;
          counters.otherFrames[type] = (counters.otherFrames[type] ?? 0) + 1;
        },
        // Our own drops set sub.socket to null first, so only server-side closes are counted.
        onClose: (code, closed) => {
          if (sub.socket !== closed) return;
          counters.closes[code] = (counters.closes[code] ?? 0) + 1;
          sub.socket = null;
        },
      },
    );
    sub.socket = socket;
  }

  async function mutationClient(
    req: Pick<PhaseRequest, 'transport' | 'graphqlUrl' | 'wsUrl' | 'secret'>,
    maxSockets: number,
  ): Promise<MutationClient> {
    const token = await signToken(req.secret, 'bench-publisher', 'Bench publisher');
    return req.transport === 'ws' ? createGraphqlWs(req.wsUrl, token) : createGraphqlHttp(req.graphqlUrl, token, maxSockets);
  }

  /** Deliveries the acknowledged messages owe: each one once to every subscriber of its room. */
  const expectedDeliveries = (outcome: PublishOutcome): number =>
    subs.reduce((n, sub) => n + (outcome.acked.get(sub.roomId)?.length ?? 0), 0);

  function dropAll(): void {
    for (const sub of subs) {
      const socket = sub.socket;
      sub.socket = null;
      socket?.terminate();
    }
  }

  async function waitDrained(expected: number, drainTimeoutMs: number, idleTimeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + drainTimeoutMs;
    let lastCount = -1;
    let lastChange = performance.now();
    while (performance.now() < deadline) {
      if (counters.deliveries >= expected) return true;
      if (counters.deliveries !== lastCount) {
        lastCount = counters.deliveries;
        lastChange = performance.now();
      } else if (performance.now() - lastChange > idleTimeoutMs) return false;
      await sleep(5);
    }
    return false;
  }

  const rooms = (): string[] => [...new Set(subs.map((s) => s.roomId))];
  const readCpu = (pids: readonly number[]): number | null => sumOrNull(pids.map(cpuMs));

  interface PhaseStart {
    cpu0: NodeJS.CpuUsage;
    wall0: number;
    server0: number | null;
    redis0: number | null;
  }

  function startPhase(kind: BenchBody['k'], req: Pick<PhaseRequest, 'serverPids' | 'redisPid'>): PhaseStart {
    counters = freshCounters(kind);
    for (const sub of subs) sub.measured = 0;
    return {
      cpu0: process.cpuUsage(),
      wall0: performance.now(),
      server0: readCpu(req.serverPids),
      redis0: req.redisPid === null ? null : cpuMs(req.redisPid),
    };
  }

  function result(
    req: PhaseRequest,
    start: PhaseStart,
    outcome: PublishOutcome,
    drained: boolean,
    extra: { offeredMessagesPerSec: number | null; reconnectFailures: number; catchUpMs: number | null },
  ): PhaseResult {
    const server1 = readCpu(req.serverPids);
    const redis1 = req.redisPid === null ? null : cpuMs(req.redisPid);
    const cpu = process.cpuUsage(start.cpu0);
    let lost = 0;
    for (const sub of subs) lost += Math.max(0, (outcome.acked.get(sub.roomId)?.length ?? 0) - sub.measured);
    const messagesSent = [...outcome.acked.values()].reduce((n, ids) => n + ids.length, 0);
    const roomCount = Math.max(1, outcome.acked.size);
    return {
      load: req.load,
      warmup: req.warmup,
      transport: req.transport,
      subscribers: subs.length,
      rooms: outcome.acked.size,
      offeredMessagesPerSec: extra.offeredMessagesPerSec,
      offeredDeliveriesPerSec: extra.offeredMessagesPerSec === null ? null : (extra.offeredMessagesPerSec * subs.length) / roomCount,
      messagesSent,
      publishErrors: outcome.errors,
      publishErrorSample: outcome.errorSample,
      expectedDeliveries: expectedDeliveries(outcome),
      deliveries: counters.deliveries,
      lost,
      duplicates: counters.duplicates,
      outOfOrder: counters.outOfOrder,
      misrouted: counters.misrouted,
      bytesReceived: counters.bytes,
      messageBytes: counters.messageBytes,
      durationMs: Math.max(0, (counters.lastDeliveryAt || outcome.endedAt) - outcome.startedAt),
      publishMs: outcome.endedAt - outcome.startedAt,
      maxSendLagMs: outcome.maxSendLagMs,
      latency: counters.latency,
      generatorCpuMs: (cpu.user + cpu.system) / 1000,
      serverCpuMs: start.server0 === null || server1 === null ? null : server1 - start.server0,
      redisCpuMs: start.redis0 === null || redis1 === null ? null : redis1 - start.redis0,
      wallMs: performance.now() - start.wall0,
      closes: counters.closes,
      otherFrames: counters.otherFrames,
      drained,
      reconnectFailures: extra.reconnectFailures,
      catchUpMs: extra.catchUpMs,
    };
  }

  return {
    async open(req: OpenRequest): Promise<{ opened: number; failed: number; errorSample: string | null; ms: number }> {
      const t0 = performance.now();
      const fresh: Sub[] = [];
      for (const group of req.groups) {
        for (let i = 0; i < group.count; i++) {
          const n = req.userOffset + fresh.length;
          fresh.push({
            url: group.url,
            roomId: group.roomId,
            token: await signToken(req.secret, `bench-s${n}`, `Bench s${n}`),
            localAddress: req.localAddresses.length ? req.localAddresses[n % req.localAddresses.length] : undefined,
            document: req.document,
            socket: null,
            lastId: null,
            measured: 0,
            probed: false,
          });
        }
      }
      let failed = 0;
      let errorSample: string | null = null;
      await pool(fresh, req.concurrency, async (sub) => {
        try {
          await connect(sub, req.timeoutMs);
          subs.push(sub);
        } catch (error) {
          failed += 1;
          errorSample ??= String(error);
        }
      });
      return { opened: fresh.length - failed, failed, errorSample, ms: performance.now() - t0 };
    },

    /** Publishes probes until every subscriber saw one: proof that each subscription is live on the server. */
    async probe(req: { url: string; secret: string; timeoutMs: number }): Promise<{ ok: boolean; rounds: number; unprobed: number }> {
      const http = createGraphqlHttp(req.url, await signToken(req.secret, 'bench-publisher', 'Bench publisher'), 16);
      const deadline = performance.now() + req.timeoutMs;
      let rounds = 0;
      try {
        while (performance.now() < deadline) {
          const pending = [...new Set(subs.filter((s) => !s.probed && s.socket).map((s) => s.roomId))];
          if (!pending.length) break;
          rounds += 1;
          await publishOnce(http, pending, 16, 'p');
          const roundEnd = Math.min(deadline, performance.now() + 1_000);
          while (performance.now() < roundEnd && subs.some((s) => !s.probed && s.socket)) await sleep(20);
        }
      } finally {
        http.close();
      }
      const unprobed = subs.filter((s) => !s.probed).length;
      return { ok: unprobed === 0, rounds, unprobed };
    },

    /** One measured (or warm-up) phase: publish at the requested load for `seconds`, then wait for every delivery. */
    async run(req: PhaseRequest): Promise<PhaseResult> {
      const roomList = rooms();
      const fanout = subs.length / Math.max(1, roomList.length);
      const client = await mutationClient(req, req.load.kind === 'saturate' ? req.load.inflight : 64);
      try {
        const start = startPhase(req.warmup ? 'w' : 'm', req);
        const forMs = req.seconds * 1000;
        let offeredMessagesPerSec: number | null = null;
        let outcome: PublishOutcome;
        if (req.load.kind === 'rate') {
          offeredMessagesPerSec = req.load.deliveriesPerSec / Math.max(1, fanout);
          outcome = await publishPaced(client, roomList, offeredMessagesPerSec, forMs, req.warmup ? 'w' : 'm');
        } else if (req.load.kind === 'saturate') {
          outcome = await publish(client, roomList, { forMs }, req.load.inflight, req.warmup ? 'w' : 'm');
        } else {
          throw new Error('an edits load runs through documents(), not run()');
        }
        const drained = await waitDrained(expectedDeliveries(outcome), req.drainTimeoutMs, req.idleTimeoutMs);
        return result(req, start, outcome, drained, { offeredMessagesPerSec, reconnectFailures: 0, catchUpMs: null });
      } finally {
        client.close();
      }
    },

    /**
     * Reconnect storm: every socket dropped at once while the publisher keeps sending (closed loop, `messages`),
     * then every client resubscribes with `after: <last id it saw>`. Drained means every client caught up.
     */
    async storm(
      req: PhaseRequest & { messages: number; inflight: number; openConcurrency: number; openTimeoutMs: number },
    ): Promise<PhaseResult> {
      const client = await mutationClient(req, req.inflight);
      try {
        const start = startPhase('m', req);
        dropAll();
        let reconnectFailures = 0;
        const publishing = publish(client, rooms(), { count: req.messages }, req.inflight, 'm');
        await pool(subs, req.openConcurrency, async (sub) => {
          await connect(sub, req.openTimeoutMs).catch(() => (reconnectFailures += 1));
        });
        const outcome = await publishing;
        const drained = await waitDrained(expectedDeliveries(outcome), req.drainTimeoutMs, req.idleTimeoutMs);
        return result(req, start, outcome, drained, {
          offeredMessagesPerSec: null,
          reconnectFailures,
          catchUpMs: Math.max(0, counters.lastDeliveryAt - start.wall0),
        });
      } finally {
        client.close();
      }
    },

    subscriberCount: (): number => subs.filter((s) => s.socket).length,

    /** Server-side closes seen since the last phase started (the idle scenario has no phase). */
    closes: (): Record<string, number> => ({ ...counters.closes }),

    /** The documents scenario, whole: its own sockets, opened and closed within the call. */
    documents: (req: DocumentsRequest): Promise<PhaseResult> => runDocuments(req),

    async close(): Promise<void> {
      dropAll();
      subs.length = 0;
    },
  };
}

export type Generator = ReturnType<typeof createGenerator>;
