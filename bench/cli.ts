import { parseArgs } from 'node:util';
import { DOCUMENT_KINDS, MUTATION_TRANSPORTS, type DocumentKind, type MutationTransport } from './protocol.ts';
import { SCENARIO_IDS, TARGET_SCENARIOS, type ScenarioId } from './scenarios.ts';
import { SERVER_KINDS, type ServerKind } from './servers.ts';

export interface BenchOptions {
  scenarios: ScenarioId[];
  servers: ServerKind[];
  quick: boolean;
  runs: number;
  phaseSeconds: number;
  warmupSeconds: number;
  subscribers?: number;
  rooms?: number;
  rates?: number[];
  documents?: DocumentKind[];
  transports?: MutationTransport[];
  generators?: number;
  inflight: number;
  pin: boolean;
  outDir: string;
}

export const USAGE = `npm run bench -- [options]
  (no options)                the targets of issue 11: ${TARGET_SCENARIOS.join(', ')};
                              project and raw alternating, 5 runs, 20 s phases
  --scenario LIST             any of ${SCENARIO_IDS.join(',')}
  --with-50k                  add idle50k (50,000 idle sockets) to the selected scenarios
  --servers LIST              project,raw,yoga (default project,raw; raw is what ratios are taken to)
  --runs N                    alternating runs per case (default 5; --quick: 1)
  --phase-seconds S           length of every measured phase (default 20; --quick: 1.5)
  --warmup-seconds S          warm-up before the measured phases (default 5; --quick: 0.5)
  --rates LIST                offered deliveries/s, one phase each (default per scenario, e.g. 10000,20000,40000)
  --document LIST             fragment,inline: subscription document(s) (default: fragment, what Apollo sends)
  --transport LIST            http,ws: how sendMessage (documents: editDocument) is sent (default: http)
  --subscribers N             subscribers (room1000: per room; rooms-*: total, spread over rooms; idle*: sockets;
                              documents: readers)
  --rooms N                   rooms for rooms-*
  --generators N              load generator processes for idle* (default 1; idle50k: 4)
  --inflight N                sendMessage requests in flight in saturated phases (default 16)
  --quick                     small sizes, one run, 1.5 s phases: a smoke pass, not a measurement
  --no-pin                    do not pin with taskset
  --out DIR                   results directory (default bench/results)`;

function positiveNumber(name: string, raw: string | undefined, integer = true): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!(integer ? Number.isSafeInteger(n) : Number.isFinite(n)) || n <= 0)
    throw new Error(`--${name} must be a positive ${integer ? 'integer' : 'number'}, got "${raw}"`);
  return n;
}

function list<T extends string>(name: string, raw: string | undefined, allowed: readonly T[]): T[] | undefined {
  if (raw === undefined) return undefined;
  const items = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = items.filter((i) => !(allowed as readonly string[]).includes(i));
  if (bad.length || !items.length) throw new Error(`--${name}: expected some of ${allowed.join(',')}, got "${raw}"`);
  return [...new Set(items)] as T[];
}

export function parseCli(argv: string[]): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      scenario: { type: 'string' },
      'with-50k': { type: 'boolean', default: false },
      servers: { type: 'string' },
      runs: { type: 'string' },
      'phase-seconds': { type: 'string' },
      'warmup-seconds': { type: 'string' },
      rates: { type: 'string' },
      document: { type: 'string' },
      transport: { type: 'string' },
      subscribers: { type: 'string' },
      rooms: { type: 'string' },
      generators: { type: 'string' },
      inflight: { type: 'string' },
      quick: { type: 'boolean', default: false },
      'no-pin': { type: 'boolean', default: false },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return 'help';
  const quick = values.quick;
  const scenarios = list('scenario', values.scenario, SCENARIO_IDS) ?? [...TARGET_SCENARIOS];
  if (values['with-50k'] && !scenarios.includes('idle50k')) scenarios.push('idle50k');
  const rates = values.rates?.split(',').map((r) => positiveNumber('rates', r.trim()) ?? 0);
  const subscribers = positiveNumber('subscribers', values.subscribers);
  const rooms = positiveNumber('rooms', values.rooms);
  const generators = positiveNumber('generators', values.generators);
  const documents = list('document', values.document, DOCUMENT_KINDS);
  const transports = list('transport', values.transport, MUTATION_TRANSPORTS);
  return {
    scenarios,
    servers: list('servers', values.servers, SERVER_KINDS) ?? ['project', 'raw'],
    quick,
    runs: positiveNumber('runs', values.runs) ?? (quick ? 1 : 5),
    phaseSeconds: positiveNumber('phase-seconds', values['phase-seconds'], false) ?? (quick ? 1.5 : 20),
    warmupSeconds:
      values['warmup-seconds'] === '0' ? 0 : (positiveNumber('warmup-seconds', values['warmup-seconds'], false) ?? (quick ? 0.5 : 5)),
    ...(subscribers ? { subscribers } : {}),
    ...(rooms ? { rooms } : {}),
    ...(rates ? { rates } : {}),
    ...(documents ? { documents } : {}),
    ...(transports ? { transports } : {}),
    ...(generators ? { generators } : {}),
    inflight: positiveNumber('inflight', values.inflight) ?? 16,
    pin: !values['no-pin'],
    outDir: values.out ?? 'bench/results',
  };
}
