import type WebSocket from 'ws';
import { signToken } from '../tokens.ts';
import { createFrameDecoder, type DecodedNext } from './frames.ts';
import { createHistogram, recordLatency, type Histogram } from './histogram.ts';
import { createGraphqlHttp, publish, type PublishOutcome } from './publisher.ts';
import { pool } from './pool.ts';
import { openSubscriber } from './subscriber.ts';

export interface OpenRequest {
  /** Subscribers per (server url, room). */
  groups: Array<{ url: string; roomId: string; count: number }>;
  secret: string;
  /** Subscribers share this many user ids round-robin (presence events grow with distinct users). */
  users: number;
  concurrency: number;
  timeoutMs: number;
}

export interface PublishRequest {
  /** GraphQL HTTP endpoint of the instance that receives the mutations. */
  url: string;
  secret: string;
  messages: number;
  inflight: number;
  /** Overall bound on waiting for deliveries after the last ack. */
  drainTimeoutMs: number;
  /** Stop waiting when nothing arrived for this long. */
  idleTimeoutMs: number;
}

export interface PhaseResult {
  subscribers: number;
  messagesSent: number;
  publishErrors: number;
  publishErrorSample: string | null;
  expectedDeliveries: number;
  deliveries: number;
  lost: number;
  duplicates: number;
  outOfOrder: number;
  misrouted: number;
  /** Every frame received by all sockets during the phase. */
  bytesReceived: number;
  /** Bytes of the MessageSent frames alone. */
  messageBytes: number;
  /** First send to last delivery. */
  durationMs: number;
  publishMs: number;
  latency: Histogram;
  generatorCpuMs: { user: number; system: number };
  wallMs: number;
  closes: Record<string, number>;
  otherFrames: Record<string, number>;
  drained: boolean;
  /** Storm only: failed reconnects. */
  reconnectFailures: number;
}

interface Sub {
  url: string;
  roomId: string;
  token: string;
  socket: WebSocket | null;
  lastId: string | null;
  seen: Set<string>;
  measured: number;
  probed: boolean;
}

interface Counters {
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

const freshCounters = (): Counters => ({
  deliveries: 0, duplicates: 0, outOfOrder: 0, misrouted: 0, bytes: 0, messageBytes: 0, lastDeliveryAt: 0,
  latency: createHistogram(), closes: {}, otherFrames: {},
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The load generator: many cheap raw-ws subscribers plus one HTTP publisher, with every delivery checked. */
export function createGenerator() {
  const subs: Sub[] = [];
  const decode = createFrameDecoder();
  const tokens = new Map<string, string>();
  let counters = freshCounters();

  const token = async (secret: string, user: string): Promise<string> => {
    let t = tokens.get(user);
    if (!t) tokens.set(user, (t = await signToken(secret, user, `Bench ${user}`)));
    return t;
  };

  function onMessage(sub: Sub, event: DecodedNext, bytes: number): void {
    counters.bytes += bytes;
    const { id, roomId } = event.message;
    if (roomId !== sub.roomId) counters.misrouted += 1;
    if (sub.seen.has(id)) {
      counters.duplicates += 1;
      return;
    }
    if (sub.lastId !== null && id < sub.lastId) counters.outOfOrder += 1;
    else sub.lastId = id;
    sub.seen.add(id);
    if (event.body.k === 'p') {
      sub.probed = true;
      return;
    }
    sub.measured += 1;
    counters.deliveries += 1;
    counters.messageBytes += bytes;
    const now = performance.now();
    counters.lastDeliveryAt = now;
    recordLatency(counters.latency, performance.timeOrigin + now - event.body.t);
  }

  async function connect(sub: Sub, timeoutMs: number): Promise<void> {
    const socket = await openSubscriber(
      { url: sub.url, roomId: sub.roomId, token: sub.token, after: sub.lastId, timeoutMs },
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
      await sleep(10);
    }
    return false;
  }

  function result(outcome: PublishOutcome, cpu0: NodeJS.CpuUsage, wall0: number, drained: boolean, reconnectFailures: number): PhaseResult {
    const cpu = process.cpuUsage(cpu0);
    let lost = 0;
    for (const sub of subs) lost += Math.max(0, (outcome.acked.get(sub.roomId)?.length ?? 0) - sub.measured);
    const messagesSent = [...outcome.acked.values()].reduce((n, ids) => n + ids.length, 0);
    return {
      subscribers: subs.length, messagesSent, publishErrors: outcome.errors, publishErrorSample: outcome.errorSample,
      expectedDeliveries: expectedDeliveries(outcome), deliveries: counters.deliveries, lost, duplicates: counters.duplicates,
      outOfOrder: counters.outOfOrder, misrouted: counters.misrouted, bytesReceived: counters.bytes,
      messageBytes: counters.messageBytes,
      durationMs: Math.max(0, (counters.lastDeliveryAt || outcome.endedAt) - outcome.startedAt),
      publishMs: outcome.endedAt - outcome.startedAt, latency: counters.latency,
      generatorCpuMs: { user: cpu.user / 1000, system: cpu.system / 1000 }, wallMs: performance.now() - wall0,
      closes: counters.closes, otherFrames: counters.otherFrames, drained, reconnectFailures,
    };
  }

  const rooms = (): string[] => [...new Set(subs.map((s) => s.roomId))];

  function startPhase(): { cpu0: NodeJS.CpuUsage; wall0: number } {
    counters = freshCounters();
    for (const sub of subs) sub.measured = 0;
    return { cpu0: process.cpuUsage(), wall0: performance.now() };
  }

  return {
    async open(req: OpenRequest): Promise<{ opened: number; failed: number; errorSample: string | null; ms: number }> {
      const t0 = performance.now();
      const fresh: Sub[] = [];
      for (const group of req.groups) {
        for (let i = 0; i < group.count; i++) {
          const user = `bench-u${(subs.length + fresh.length) % Math.max(1, req.users)}`;
          fresh.push({ url: group.url, roomId: group.roomId, token: await token(req.secret, user), socket: null, lastId: null, seen: new Set(), measured: 0, probed: false });
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
      const http = createGraphqlHttp(req.url, await token(req.secret, 'bench-publisher'), 16);
      const deadline = performance.now() + req.timeoutMs;
      let rounds = 0;
      try {
        while (performance.now() < deadline) {
          const pending = [...new Set(subs.filter((s) => !s.probed && s.socket).map((s) => s.roomId))];
          if (!pending.length) break;
          rounds += 1;
          await publish(http, pending, pending.length, 16, 'p');
          const roundEnd = Math.min(deadline, performance.now() + 1_000);
          while (performance.now() < roundEnd && subs.some((s) => !s.probed && s.socket)) await sleep(20);
        }
      } finally {
        http.close();
      }
      const unprobed = subs.filter((s) => !s.probed).length;
      return { ok: unprobed === 0, rounds, unprobed };
    },

    async run(req: PublishRequest): Promise<PhaseResult> {
      const { cpu0, wall0 } = startPhase();
      const http = createGraphqlHttp(req.url, await token(req.secret, 'bench-publisher'), req.inflight);
      try {
        const outcome = await publish(http, rooms(), req.messages, req.inflight, 'm');
        const drained = await waitDrained(expectedDeliveries(outcome), req.drainTimeoutMs, req.idleTimeoutMs);
        return result(outcome, cpu0, wall0, drained, 0);
      } finally {
        http.close();
      }
    },

    /**
     * Reconnect storm: every socket dropped at once while the publisher keeps sending, then every client
     * resubscribes with `after: <last id it saw>`. Drained means every client caught up on every message.
     */
    async storm(req: PublishRequest & { openConcurrency: number; openTimeoutMs: number }): Promise<PhaseResult & { catchUpMs: number }> {
      const { cpu0, wall0 } = startPhase();
      const http = createGraphqlHttp(req.url, await token(req.secret, 'bench-publisher'), req.inflight);
      try {
        dropAll();
        let reconnectFailures = 0;
        const publishing = publish(http, rooms(), req.messages, req.inflight, 'm');
        await pool(subs, req.openConcurrency, async (sub) => {
          await connect(sub, req.openTimeoutMs).catch(() => (reconnectFailures += 1));
        });
        const outcome = await publishing;
        const drained = await waitDrained(expectedDeliveries(outcome), req.drainTimeoutMs, req.idleTimeoutMs);
        const phase = result(outcome, cpu0, wall0, drained, reconnectFailures);
        return { ...phase, catchUpMs: Math.max(0, counters.lastDeliveryAt - wall0) };
      } finally {
        http.close();
      }
    },

    subscriberCount: (): number => subs.filter((s) => s.socket).length,

    async close(): Promise<void> {
      dropAll();
      subs.length = 0;
    },
  };
}

export type Generator = ReturnType<typeof createGenerator>;
