import type { PhaseResult } from './generator/generator.ts';
import { createGraphqlHttp, createRoom } from './generator/publisher.ts';
import { spawnGenerator } from './generator/remote.ts';
import { cpuMs, liveHeapKiB, rssKiB } from './processes.ts';
import { startRedis, type RedisHandle } from './redis.ts';
import { HEAP_PROBE_DIR, startServer, type ServerHandle, type ServerKind } from './servers.ts';
import { signToken } from './tokens.ts';

export type ScenarioId = 'S1' | 'S2' | 'S3' | 'S4' | 'S5';
export const SCENARIO_IDS: readonly ScenarioId[] = ['S1', 'S2', 'S3', 'S4', 'S5'];

/** One measured configuration; every server in `--servers` runs it in the same invocation. */
export interface BenchCase {
  scenario: ScenarioId;
  label: string;
  rooms: number;
  subscribersPerRoom: number;
  messages: number;
  mode: 'run' | 'idle' | 'storm';
  /** Instances on one Redis for servers that can cluster (project, yoga); raw runs alone. */
  instances: number;
}

export interface CaseOptions {
  secret: string;
  users: number;
  inflight: number;
  serverCore: number | null;
  generatorCore: number | null;
  openConcurrency: number;
}

export interface RunRecord {
  case: BenchCase;
  server: ServerKind;
  instances: number;
  phase: (PhaseResult & { catchUpMs?: number }) | null;
  error: string | null;
  setup: { opened: number; failed: number; openMs: number; probeRounds: number; unprobed: number; errorSample: string | null } | null;
  serverCpuMs: number | null;
  rssBeforeKiB: number | null;
  rssAfterKiB: number | null;
  rssPerSocketKiB: number | null;
  /** S3: live JS heap after a full GC, per socket (what the sockets' objects hold, without GC slack). */
  heapPerSocketKiB: number | null;
}

const sumOrNull = (values: Array<number | null>): number | null =>
  values.some((v) => v === null) ? null : values.reduce<number>((a, v) => a + (v ?? 0), 0);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs one case against one server kind; every process it starts is stopped by PID before it returns. */
export async function runCase(benchCase: BenchCase, kind: ServerKind, options: CaseOptions): Promise<RunRecord> {
  const instances = kind === 'raw' ? 1 : benchCase.instances;
  const record: RunRecord = { case: benchCase, server: kind, instances, phase: null, error: null, setup: null, serverCpuMs: null, rssBeforeKiB: null, rssAfterKiB: null, rssPerSocketKiB: null, heapPerSocketKiB: null };
  let redis: RedisHandle | null = null;
  const servers: ServerHandle[] = [];
  const generator = spawnGenerator(options.generatorCore);
  const subscribers = benchCase.rooms * benchCase.subscribersPerRoom;
  try {
    if (instances > 1) redis = await startRedis(options.serverCore);
    for (let i = 0; i < instances; i++) {
      servers.push(await startServer(kind, { secret: options.secret, core: options.serverCore, ...(redis ? { redisUrl: redis.url } : {}) }));
    }
    const publishTo = servers[0] as ServerHandle;
    const http = createGraphqlHttp(publishTo.graphqlUrl, await signToken(options.secret, 'bench-admin'), 8);
    const rooms: string[] = [];
    try {
      for (let i = 0; i < benchCase.rooms; i++) rooms.push(await createRoom(http));
    } finally {
      http.close();
    }
    // Subscribers alternate over the instances, so with two each holds half of every room.
    const groups = rooms.flatMap((roomId) =>
      servers.map((server, i) => ({ url: server.wsUrl, roomId, count: Math.floor(benchCase.subscribersPerRoom / instances) + (i < benchCase.subscribersPerRoom % instances ? 1 : 0) })),
    );
    const pids = servers.map((s) => s.pid);
    const rss = (): number | null => sumOrNull(pids.map(rssKiB));
    const cpu = (): number | null => sumOrNull(pids.map(cpuMs));
    const heap = async (): Promise<number | null> => sumOrNull(await Promise.all(pids.map((pid) => liveHeapKiB(pid, HEAP_PROBE_DIR))));
    const heapBefore = benchCase.mode === 'idle' ? await heap() : null;
    record.rssBeforeKiB = rss();
    const openBudget = 60_000 + subscribers * 20;
    const opened = await generator.call('open', { groups: groups.filter((g) => g.count > 0), secret: options.secret, users: options.users, concurrency: options.openConcurrency, timeoutMs: 30_000 }, openBudget);
    const probed = await generator.call('probe', { url: publishTo.graphqlUrl, secret: options.secret, timeoutMs: 30_000 }, 40_000);
    record.setup = { opened: opened.opened, failed: opened.failed, openMs: opened.ms, probeRounds: probed.rounds, unprobed: probed.unprobed, errorSample: opened.errorSample };

    const publishRequest = {
      url: publishTo.graphqlUrl,
      secret: options.secret,
      messages: benchCase.messages,
      inflight: options.inflight,
      drainTimeoutMs: 120_000,
      idleTimeoutMs: 5_000,
    };
    const phaseBudget = 180_000 + benchCase.messages * 50;
    const cpu0 = cpu();
    if (benchCase.mode === 'idle') {
      // Let allocation from the connect burst settle before reading the resident size.
      await sleep(2_000);
      record.rssAfterKiB = rss();
      if (record.rssBeforeKiB !== null && record.rssAfterKiB !== null && opened.opened > 0) {
        record.rssPerSocketKiB = (record.rssAfterKiB - record.rssBeforeKiB) / opened.opened;
      }
      // After the RSS reading, which the collection would change.
      const heapAfter = await heap();
      if (heapBefore !== null && heapAfter !== null && opened.opened > 0) record.heapPerSocketKiB = (heapAfter - heapBefore) / opened.opened;
    } else if (benchCase.mode === 'run') {
      record.phase = await generator.call('run', publishRequest, phaseBudget);
    } else {
      record.phase = await generator.call('storm', { ...publishRequest, openConcurrency: subscribers, openTimeoutMs: 60_000 }, phaseBudget);
    }
    const cpu1 = cpu();
    record.serverCpuMs = cpu0 !== null && cpu1 !== null ? cpu1 - cpu0 : null;
    record.rssAfterKiB ??= rss();
  } catch (error) {
    record.error = error instanceof Error ? error.message : String(error);
  } finally {
    await generator.call('close', undefined, 30_000).catch(() => undefined);
    await generator.stop();
    for (const server of servers) await server.stop();
    await redis?.stop();
  }
  return record;
}

export interface CaseSizes {
  quick: boolean;
  subscribers?: number;
  messages?: number;
  rooms?: number;
}

/** Defaults sized to run everything in a few minutes on two cores; `--quick` is a seconds-long sanity pass. */
export function casesFor(scenario: ScenarioId, sizes: CaseSizes): BenchCase[] {
  const q = sizes.quick;
  const msgs = (full: number, quick: number): number => sizes.messages ?? (q ? quick : full);
  switch (scenario) {
    case 'S1':
      return (sizes.subscribers ? [sizes.subscribers] : q ? [50] : [1_000, 5_000]).map((n) => ({
        scenario, label: `S1 1 room x ${n} subscribers`, rooms: 1, subscribersPerRoom: n, messages: msgs(200, 20), mode: 'run', instances: 1,
      }));
    case 'S2': {
      const rooms = sizes.rooms ?? (q ? 10 : 200);
      const per = sizes.subscribers ? Math.max(1, Math.round(sizes.subscribers / rooms)) : 5;
      return [{ scenario, label: `S2 ${rooms} rooms x ${per} subscribers`, rooms, subscribersPerRoom: per, messages: msgs(2_000, 100), mode: 'run', instances: 1 }];
    }
    case 'S3': {
      const n = sizes.subscribers ?? (q ? 500 : 10_000);
      return [{ scenario, label: `S3 ${n} idle subscribed sockets`, rooms: 1, subscribersPerRoom: n, messages: 0, mode: 'idle', instances: 1 }];
    }
    case 'S4': {
      const n = sizes.subscribers ?? (q ? 100 : 1_000);
      return [{ scenario, label: `S4 2 instances on Redis, 1 room x ${n}`, rooms: 1, subscribersPerRoom: n, messages: msgs(200, 20), mode: 'run', instances: 2 }];
    }
    case 'S5': {
      const n = sizes.subscribers ?? (q ? 100 : 2_000);
      return [{ scenario, label: `S5 reconnect storm, ${n} clients`, rooms: 1, subscribersPerRoom: n, messages: msgs(200, 20), mode: 'storm', instances: 1 }];
    }
  }
}
