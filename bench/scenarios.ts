import type { Load, PhaseResult } from './generator/generator.ts';
import { createGraphqlHttp, createRoom } from './generator/publisher.ts';
import { pool } from './generator/pool.ts';
import { spawnGenerator, type RemoteGenerator } from './generator/remote.ts';
import { afterGcKiB, canRaiseNofile, inheritedNofile } from './processes.ts';
import type { DocumentKind, MutationTransport } from './protocol.ts';
import { startRedis, type RedisHandle } from './redis.ts';
import { HEAP_PROBE_DIR, SERVER_KINDS, startServer, type ServerHandle, type ServerKind } from './servers.ts';
import { signToken } from './tokens.ts';

/** The issue's targets, run by `npm run bench` with no flags. */
export const TARGET_SCENARIOS = ['rooms-redis', 'rooms-memory', 'room1000', 'idle10k'] as const;
/** Behind flags: the 50,000-socket variant (`--with-50k`), two extras kept from the earlier harness, and documents. */
export const EXTRA_SCENARIOS = ['idle50k', 'cluster', 'storm', 'documents'] as const;
export type ScenarioId = (typeof TARGET_SCENARIOS)[number] | (typeof EXTRA_SCENARIOS)[number];
export const SCENARIO_IDS: readonly ScenarioId[] = [...TARGET_SCENARIOS, ...EXTRA_SCENARIOS];

/** One measured configuration; every server in `--servers` runs it, alternating, `--runs` times. */
export interface BenchCase {
  scenario: ScenarioId;
  label: string;
  rooms: number;
  subscribersPerRoom: number;
  document: DocumentKind;
  transport: MutationTransport;
  /** Redis for the servers that use it (project, yoga); raw has none and runs in memory. */
  redis: boolean;
  /** Instances on one Redis for servers that can cluster (project, yoga); raw runs alone. */
  instances: number;
  mode: 'phases' | 'idle' | 'storm' | 'documents';
  /** Offered deliveries/s, one phase each (open loop, paced). */
  rates: number[];
  /** Also a closed-loop phase at saturation (deliveries/s the server sustains). */
  saturate: boolean;
  /** Storm: messages sent while every client reconnects. */
  stormMessages: number;
  /** Idle: generator processes (each on its own source address 127.0.0.x). */
  generators: number;
  /** Documents: editors typing (each at `editsPerSec`) and readers, all on one document; `rooms`/`subscribersPerRoom` are 1/readers. */
  editors: number;
  editsPerSec: number;
}

/** Servers that can run a case: the baselines have no documents, so `documents` measures the project alone. */
export function runsOn(benchCase: BenchCase, kind: ServerKind): boolean {
  return benchCase.mode !== 'documents' || kind === 'project';
}

export interface CaseOptions {
  secret: string;
  phaseSeconds: number;
  warmupSeconds: number;
  inflight: number;
  serverCore: number | null;
  generatorCore: number | null;
  openConcurrency: number;
}

export interface SetupRecord {
  opened: number;
  failed: number;
  openMs: number;
  probeRounds: number;
  unprobed: number;
  errorSample: string | null;
}

export interface RunRecord {
  case: BenchCase;
  server: ServerKind;
  /** 1-based; runs of different servers with the same number ran back to back and are compared. */
  run: number;
  instances: number;
  /** Measured phases (the warm-up is checked for loss but not kept). */
  phases: PhaseResult[];
  error: string | null;
  setup: SetupRecord | null;
  /** Idle: RSS and live heap right after a full GC, before the sockets opened and after, per socket. */
  rssPerSocketKiB: number | null;
  heapPerSocketKiB: number | null;
  idleSockets: number | null;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A phase's key in the report: its offered rate, or `saturated`. */
export function phaseKey(load: Load): string {
  if (load.kind === 'saturate') return 'saturated';
  if (load.kind === 'edits')
    return `${load.editors} editors x ${load.editsPerSec} edits/s, ${load.readers.toLocaleString('en-US')} readers`;
  return `${load.deliveriesPerSec.toLocaleString('en-US')} deliveries/s offered`;
}

/** Every way a phase can have lost, doubled, reordered or misrouted something; empty when it is clean. */
export function correctnessProblems(p: PhaseResult): string[] {
  const out: string[] = [];
  if (p.lost) out.push(`${p.lost} lost`);
  if (p.duplicates) out.push(`${p.duplicates} duplicated`);
  if (p.outOfOrder) out.push(`${p.outOfOrder} out of order`);
  if (p.misrouted) out.push(`${p.misrouted} misrouted`);
  if (p.publishErrors) out.push(`${p.publishErrors} sendMessage errors (${p.publishErrorSample ?? ''})`);
  if (!p.drained) out.push(`did not drain: ${p.deliveries} of ${p.expectedDeliveries} deliveries`);
  if (p.reconnectFailures) out.push(`${p.reconnectFailures} reconnects failed`);
  if (p.documents?.problems.length) out.push(...p.documents.problems);
  if (Object.keys(p.closes).length) out.push(`server closed sockets ${JSON.stringify(p.closes)}`);
  const bad = Object.entries(p.otherFrames).filter(([type]) => type === 'error' || type === 'unparsable' || type === 'next (other id)');
  if (bad.length) out.push(`unexpected frames ${JSON.stringify(Object.fromEntries(bad))}`);
  return out;
}

const NOFILE = 200_000;
const DOCUMENT_OPEN_CONCURRENCY = 20;
/** Idle cases: rooms (of the case's room size) opened before the baseline reading, not counted. */
const IDLE_WARM_ROOMS = 10;

async function createRooms(graphqlUrl: string, secret: string, count: number): Promise<string[]> {
  const http = createGraphqlHttp(graphqlUrl, await signToken(secret, 'bench-admin'), 16);
  const rooms: string[] = [];
  try {
    await pool(Array.from({ length: count }), 16, async () => void rooms.push(await createRoom(http)));
  } finally {
    http.close();
  }
  return rooms;
}

/** Runs one case against one server kind; every process it starts is stopped by PID before it returns. */
export async function runCase(benchCase: BenchCase, kind: ServerKind, run: number, options: CaseOptions): Promise<RunRecord> {
  const instances = kind === 'raw' ? 1 : benchCase.instances;
  const record: RunRecord = {
    case: benchCase,
    server: kind,
    run,
    instances,
    phases: [],
    error: null,
    setup: null,
    rssPerSocketKiB: null,
    heapPerSocketKiB: null,
    idleSockets: null,
  };
  const subscribers = benchCase.rooms * benchCase.subscribersPerRoom;
  const manySockets = subscribers > 15_000;
  let redis: RedisHandle | null = null;
  const servers: ServerHandle[] = [];
  const generators: RemoteGenerator[] = [];
  try {
    // Each socket is a file descriptor. prlimit raises the soft limit up to the hard one; past it only with
    // CAP_SYS_RESOURCE (often dropped in containers).
    let nofile: number | undefined;
    if (manySockets) {
      const hard = inheritedNofile();
      nofile = canRaiseNofile(NOFILE) ? NOFILE : hard !== null && Number.isFinite(hard) ? hard : undefined;
      if (nofile !== undefined && nofile < subscribers + 1_000) {
        throw new Error(
          `open-file limit ${nofile} is below the ${subscribers.toLocaleString('en-US')} sockets this case needs, and prlimit may not raise it here: raise \`ulimit -Hn\` or run with CAP_SYS_RESOURCE`,
        );
      }
    }
    if (kind !== 'raw' && (benchCase.redis || instances > 1)) redis = await startRedis(options.serverCore);
    if (benchCase.mode === 'documents') {
      const server = await startServer(kind, {
        secret: options.secret,
        core: options.serverCore,
        ...(redis ? { redisUrl: redis.url } : {}),
      });
      servers.push(server);
      const generator = spawnGenerator(options.generatorCore);
      generators.push(generator);
      const phase = await generator.call(
        'documents',
        {
          graphqlUrl: server.graphqlUrl,
          wsUrl: server.wsUrl,
          transport: benchCase.transport,
          secret: options.secret,
          editors: benchCase.editors,
          editsPerSec: benchCase.editsPerSec,
          readers: benchCase.subscribersPerRoom,
          seconds: options.phaseSeconds,
          serverPids: [server.pid],
          redisPid: redis?.pid ?? null,
          // Each reader's join fans out to every socket open before it; 200 at once starved the server's Redis
          // commands (presence join: Redis unavailable) and the server ended those subscriptions.
          openConcurrency: DOCUMENT_OPEN_CONCURRENCY,
          timeoutMs: 30_000,
          drainTimeoutMs: 120_000,
        },
        420_000 + options.phaseSeconds * 2_000,
      );
      record.phases.push(phase);
      const problems = correctnessProblems(phase);
      if (problems.length) throw new Error(`CORRECTNESS (documents): ${problems.join('; ')}`);
      return record;
    }
    for (let i = 0; i < instances; i++) {
      servers.push(
        await startServer(kind, {
          secret: options.secret,
          core: options.serverCore,
          ...(redis ? { redisUrl: redis.url } : {}),
          ...(nofile ? { nofile } : {}),
        }),
      );
    }
    for (let i = 0; i < benchCase.generators; i++) generators.push(spawnGenerator(options.generatorCore, nofile));
    const publishTo = servers[0] as ServerHandle;
    const rooms = await createRooms(publishTo.graphqlUrl, options.secret, benchCase.rooms);
    const pids = servers.map((s) => s.pid);
    const afterGc = async (): Promise<{ heapKiB: number; rssKiB: number } | null> => {
      const probes = await Promise.all(pids.map((pid) => afterGcKiB(pid, HEAP_PROBE_DIR)));
      if (probes.some((p) => p === null)) return null;
      return probes.reduce<{ heapKiB: number; rssKiB: number }>(
        (a, p) => ({ heapKiB: a.heapKiB + (p?.heapKiB ?? 0), rssKiB: a.rssKiB + (p?.rssKiB ?? 0) }),
        { heapKiB: 0, rssKiB: 0 },
      );
    };
    if (benchCase.mode === 'idle') {
      // A first batch, in rooms of its own and not counted, before the baseline reading: what the first sockets
      // cost once (code compiled, pools grown) is not a cost per socket, and would make small counts look worse.
      const warm = await createRooms(publishTo.graphqlUrl, options.secret, IDLE_WARM_ROOMS);
      const generator = generators[0] as RemoteGenerator;
      const groups = warm.map((roomId) => ({ url: publishTo.wsUrl, roomId, count: benchCase.subscribersPerRoom }));
      await generator.call(
        'open',
        {
          groups,
          secret: options.secret,
          document: benchCase.document,
          userOffset: subscribers,
          localAddresses: [],
          concurrency: options.openConcurrency,
          timeoutMs: 30_000,
        },
        60_000,
      );
      const probed = await generator.call('probe', { url: publishTo.graphqlUrl, secret: options.secret, timeoutMs: 30_000 }, 40_000);
      if (!probed.ok) throw new Error(`setup: ${probed.unprobed} warm-up sockets never saw a probe`);
    }
    const before = benchCase.mode === 'idle' ? await afterGc() : null;

    // Whole rooms per generator (probes stay within one process); subscribers alternate over the instances.
    const setup: SetupRecord = { opened: 0, failed: 0, openMs: 0, probeRounds: 0, unprobed: 0, errorSample: null };
    const perGenerator = Math.ceil(subscribers / generators.length);
    const addressSlot = (run - 1) * SERVER_KINDS.length + SERVER_KINDS.indexOf(kind);
    await Promise.all(
      generators.map(async (generator, g) => {
        const mine = rooms.filter((_, r) => r % generators.length === g);
        const groups = mine.flatMap((roomId) =>
          servers.map((server, i) => ({
            url: server.wsUrl,
            roomId,
            count: Math.floor(benchCase.subscribersPerRoom / instances) + (i < benchCase.subscribersPerRoom % instances ? 1 : 0),
          })),
        );
        const count = groups.reduce((n, group) => n + group.count, 0);
        const opened = await generator.call(
          'open',
          {
            groups: groups.filter((group) => group.count > 0),
            secret: options.secret,
            document: benchCase.document,
            userOffset: g * perGenerator,
            // 127.0.0.2, .3, ...: each source address has its own ephemeral ports (127.0.0.0/8 is all loopback), and a
            // new set per run and server, so the last run's TIME_WAIT sockets do not take this run's ports.
            localAddresses: benchCase.mode === 'idle' ? [`127.0.0.${2 + ((addressSlot * generators.length + g) % 250)}`] : [],
            concurrency: options.openConcurrency,
            timeoutMs: 30_000,
          },
          120_000 + count * 20,
        );
        const probed = await generator.call('probe', { url: publishTo.graphqlUrl, secret: options.secret, timeoutMs: 60_000 }, 90_000);
        setup.opened += opened.opened;
        setup.failed += opened.failed;
        setup.openMs = Math.max(setup.openMs, opened.ms);
        setup.probeRounds = Math.max(setup.probeRounds, probed.rounds);
        setup.unprobed += probed.unprobed;
        setup.errorSample ??= opened.errorSample;
      }),
    );
    record.setup = setup;
    if (setup.failed || setup.unprobed)
      throw new Error(`setup: ${setup.failed} sockets failed to open, ${setup.unprobed} never saw a probe (${setup.errorSample ?? ''})`);

    const generator = generators[0] as RemoteGenerator;
    const phaseBase = {
      graphqlUrl: publishTo.graphqlUrl,
      wsUrl: publishTo.wsUrl,
      transport: benchCase.transport,
      secret: options.secret,
      serverPids: pids,
      redisPid: redis?.pid ?? null,
      drainTimeoutMs: 120_000,
      idleTimeoutMs: 10_000,
    };
    const phaseBudget = (seconds: number): number => 180_000 + seconds * 2_000;
    if (benchCase.mode === 'idle') {
      // Let the connect burst's garbage become garbage, then read RSS and heap right after a full GC.
      await sleep(2_000);
      const after = await afterGc();
      record.idleSockets = setup.opened;
      if (before && after && setup.opened > 0) {
        record.rssPerSocketKiB = (after.rssKiB - before.rssKiB) / setup.opened;
        record.heapPerSocketKiB = (after.heapKiB - before.heapKiB) / setup.opened;
      }
    } else if (benchCase.mode === 'phases') {
      const loads: Load[] = [
        ...benchCase.rates.map((deliveriesPerSec): Load => ({ kind: 'rate', deliveriesPerSec })),
        ...(benchCase.saturate ? [{ kind: 'saturate', inflight: options.inflight } satisfies Load] : []),
      ];
      const first = loads[0];
      if (first && options.warmupSeconds > 0) {
        const warm = await generator.call(
          'run',
          { ...phaseBase, load: first, seconds: options.warmupSeconds, warmup: true },
          phaseBudget(options.warmupSeconds),
        );
        const problems = correctnessProblems(warm);
        if (problems.length) throw new Error(`CORRECTNESS (warm-up): ${problems.join('; ')}`);
      }
      for (const load of loads) {
        const phase = await generator.call(
          'run',
          { ...phaseBase, load, seconds: options.phaseSeconds, warmup: false },
          phaseBudget(options.phaseSeconds),
        );
        record.phases.push(phase);
        const problems = correctnessProblems(phase);
        if (problems.length) throw new Error(`CORRECTNESS (${phaseKey(load)}): ${problems.join('; ')}`);
      }
    } else {
      const phase = await generator.call(
        'storm',
        {
          ...phaseBase,
          load: { kind: 'saturate', inflight: options.inflight },
          seconds: 0,
          warmup: false,
          messages: benchCase.stormMessages,
          inflight: options.inflight,
          openConcurrency: options.openConcurrency,
          openTimeoutMs: 30_000,
        },
        phaseBudget(60),
      );
      record.phases.push(phase);
      const problems = correctnessProblems(phase);
      if (problems.length) throw new Error(`CORRECTNESS (storm): ${problems.join('; ')}`);
    }
  } catch (error) {
    record.error = error instanceof Error ? error.message : String(error);
  } finally {
    await Promise.all(generators.map((g) => g.stop()));
    for (const server of servers) await server.stop();
    await redis?.stop();
  }
  return record;
}

export interface CaseSizes {
  quick: boolean;
  subscribers?: number;
  rooms?: number;
  rates?: number[];
  documents?: DocumentKind[];
  transports?: MutationTransport[];
  generators?: number;
}

interface CaseShape {
  name: string;
  rooms: number;
  perRoom: number;
  redis: boolean;
  instances: number;
  mode: BenchCase['mode'];
  rates: number[];
  saturate: boolean;
  document: DocumentKind;
  transport: MutationTransport;
  generators: number;
  editors?: number;
}

/** The cases of one scenario: its shape, crossed with `--document` and `--transport` when those are given. */
export function casesFor(scenario: ScenarioId, sizes: CaseSizes): BenchCase[] {
  const q = sizes.quick;
  const idleRoomSize = 10;
  const base = ((): CaseShape => {
    switch (scenario) {
      case 'rooms-redis':
      case 'rooms-memory': {
        const rooms = sizes.rooms ?? (q ? 20 : 200);
        const perRoom = sizes.subscribers ? Math.max(1, Math.round(sizes.subscribers / rooms)) : 5;
        return {
          name: `${rooms} rooms x ${perRoom}, ${scenario === 'rooms-redis' ? 'Redis' : 'in memory'}`,
          rooms,
          perRoom,
          redis: scenario === 'rooms-redis',
          instances: 1,
          mode: 'phases',
          rates: sizes.rates ?? [5_000],
          saturate: true,
          document: 'fragment',
          transport: 'http',
          generators: 1,
        };
      }
      case 'room1000': {
        const n = sizes.subscribers ?? (q ? 100 : 1_000);
        return {
          name: `1 room x ${n}`,
          rooms: 1,
          perRoom: n,
          redis: false,
          instances: 1,
          mode: 'phases',
          rates: sizes.rates ?? [10_000, 20_000, 40_000],
          saturate: false,
          document: 'fragment',
          transport: 'http',
          generators: 1,
        };
      }
      case 'idle10k':
      case 'idle50k': {
        const n = sizes.subscribers ?? (q ? (scenario === 'idle10k' ? 1_000 : 5_000) : scenario === 'idle10k' ? 10_000 : 50_000);
        const rooms = Math.max(1, Math.round(n / idleRoomSize));
        const generators = sizes.generators ?? (scenario === 'idle50k' ? 4 : 1);
        return {
          name: `${(rooms * idleRoomSize).toLocaleString('en-US')} idle subscribed sockets (${rooms} rooms x ${idleRoomSize})`,
          rooms,
          perRoom: idleRoomSize,
          redis: false,
          instances: 1,
          mode: 'idle',
          rates: [],
          saturate: false,
          document: 'fragment',
          transport: 'http',
          generators,
        };
      }
      case 'cluster': {
        const n = sizes.subscribers ?? (q ? 100 : 1_000);
        return {
          name: `2 instances on Redis, 1 room x ${n}`,
          rooms: 1,
          perRoom: n,
          redis: true,
          instances: 2,
          mode: 'phases',
          rates: sizes.rates ?? [10_000, 20_000],
          saturate: true,
          document: 'fragment',
          transport: 'http',
          generators: 1,
        };
      }
      case 'documents': {
        const readers = sizes.subscribers ?? (q ? 50 : 1_000);
        const editors = q ? 5 : 50;
        return {
          name: `1 document, ${editors} editors x 5 edits/s, ${readers.toLocaleString('en-US')} readers, Redis`,
          rooms: 1,
          perRoom: readers,
          redis: true,
          instances: 1,
          mode: 'documents',
          rates: [],
          saturate: false,
          document: 'inline',
          transport: 'http',
          generators: 1,
          editors,
        };
      }
      case 'storm': {
        const n = sizes.subscribers ?? (q ? 100 : 2_000);
        // Resuming needs `after`, which only the inline document declares.
        return {
          name: `reconnect storm, ${n} clients resume with after`,
          rooms: 1,
          perRoom: n,
          redis: false,
          instances: 1,
          mode: 'storm',
          rates: [],
          saturate: false,
          document: 'inline',
          transport: 'http',
          generators: 1,
        };
      }
    }
  })();
  // storm needs the inline document; documents subscribes to documentEvents, not to either room document.
  const documents = scenario === 'storm' || scenario === 'documents' ? [base.document] : (sizes.documents ?? [base.document]);
  const transports = base.mode === 'idle' ? [base.transport] : (sizes.transports ?? [base.transport]);
  return documents.flatMap((document) =>
    transports.map((transport) => ({
      scenario,
      label:
        base.mode === 'documents'
          ? `${scenario}: ${base.name}, editDocument over ${transport.toUpperCase()}`
          : `${scenario}: ${base.name}, ${document} document${base.mode === 'idle' ? '' : `, sendMessage over ${transport.toUpperCase()}`}`,
      rooms: base.rooms,
      subscribersPerRoom: base.perRoom,
      document,
      transport,
      redis: base.redis,
      instances: base.instances,
      mode: base.mode,
      rates: base.rates,
      saturate: base.saturate,
      stormMessages: q ? 20 : 200,
      generators: base.generators,
      editors: base.editors ?? 0,
      editsPerSec: 5,
    })),
  );
}
