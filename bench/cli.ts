import { parseArgs } from 'node:util';
import { SCENARIO_IDS, type ScenarioId } from './scenarios.ts';
import { SERVER_KINDS, type ServerKind } from './servers.ts';

export interface BenchOptions {
  scenarios: ScenarioId[];
  servers: ServerKind[];
  quick: boolean;
  subscribers?: number;
  messages?: number;
  rooms?: number;
  inflight: number;
  users: number;
  pin: boolean;
  outDir: string;
}

export const USAGE = `npm run bench -- [options]
  --scenario S1,S2,S3,S4,S5   scenarios to run (default: all)
  --servers project,raw,yoga  servers to measure (default: all three)
  --subscribers N             subscribers (S1/S3/S4/S5; S2: total, spread over rooms)
  --messages N                messages per run
  --rooms N                   rooms for S2
  --inflight N                sendMessage requests in flight (default 16)
  --users N                   distinct user ids the subscribers share (default 50)
  --quick                     tiny sizes, seconds per scenario
  --no-pin                    do not pin with taskset
  --out DIR                   results directory (default bench/results)`;

function positiveInt(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got "${raw}"`);
  return n;
}

function list<T extends string>(name: string, raw: string | undefined, allowed: readonly T[]): T[] {
  if (raw === undefined) return [...allowed];
  const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = items.filter((i) => !(allowed as readonly string[]).includes(i));
  if (bad.length || !items.length) throw new Error(`--${name}: expected some of ${allowed.join(',')}, got "${raw}"`);
  return items as T[];
}

export function parseCli(argv: string[]): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      scenario: { type: 'string' },
      servers: { type: 'string' },
      subscribers: { type: 'string' },
      messages: { type: 'string' },
      rooms: { type: 'string' },
      inflight: { type: 'string' },
      users: { type: 'string' },
      quick: { type: 'boolean', default: false },
      'no-pin': { type: 'boolean', default: false },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return 'help';
  const subscribers = positiveInt('subscribers', values.subscribers);
  const messages = positiveInt('messages', values.messages);
  const rooms = positiveInt('rooms', values.rooms);
  return {
    scenarios: list('scenario', values.scenario?.toUpperCase(), SCENARIO_IDS),
    servers: list('servers', values.servers, SERVER_KINDS),
    quick: values.quick,
    ...(subscribers ? { subscribers } : {}),
    ...(messages ? { messages } : {}),
    ...(rooms ? { rooms } : {}),
    inflight: positiveInt('inflight', values.inflight) ?? 16,
    users: positiveInt('users', values.users) ?? 50,
    pin: !values['no-pin'],
    outDir: values.out ?? 'bench/results',
  };
}
