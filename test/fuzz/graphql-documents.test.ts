import fc from 'fast-check';
import { describe, it, onTestFinished } from 'vitest';
import { useRedis, type RedisServer } from '../utils/redis-server.ts';
import { operationArb, type GeneratedOperation } from './support/documents.ts';
import { endingArb, type Ending } from './support/frames.ts';
import { httpShapeArb, playHttp, type HttpShape } from './support/http-driver.ts';
import { assertFuzz, fuzzParameters, fuzzTimeout } from './support/runs.ts';
import { FuzzTarget, type Mode } from './support/target.ts';
import { playConnection } from './support/ws-driver.ts';

/**
 * Random GraphQL documents against the real schema (`schema/chat.graphql`): real fields picked at random, named and
 * inline fragments, aliases, @include/@skip on literals and on variables, and variables that are null, omitted or
 * of the wrong type; sent with valid tokens mostly, over WebSocket, SSE (GET and POST, every Accept Yoga streams
 * for, missing included) and plain HTTP, up to four at once, streams dropped at random points. After every case:
 * the process runs and logged no error, no client got a 5xx or an internal error, and the honest client still
 * receives; at the end no accepted sendMessage is missing from history and the heap is back near its start.
 */
const FILE = 'test/fuzz/graphql-documents.test.ts';
const RUNS = 60;
const HEAP_SLACK_BYTES = Number(process.env.FUZZ_HEAP_SLACK_MB ?? 64) * 1024 * 1024;

type Transport = { via: 'ws'; waitMs: number; answerClose: boolean; ending: Ending } | { via: 'http'; shape: HttpShape };

const transportArb: fc.Arbitrary<Transport> = fc.oneof(
  fc.record({ via: fc.constant('ws' as const), waitMs: fc.constantFrom(0, 20, 100), answerClose: fc.boolean(), ending: endingArb }),
  fc.record({ via: fc.constant('http' as const), shape: httpShapeArb }),
  fc.record({ via: fc.constant('http' as const), shape: httpShapeArb }),
);

async function play(target: FuzzTarget, operation: GeneratedOperation, transport: Transport): Promise<string[]> {
  if (transport.via === 'http') return (await playHttp(target, operation, transport.shape)).problems;
  const script = {
    greet: true,
    answerClose: transport.answerClose,
    actions: [
      { do: 'subscribe' as const, id: '1', operation },
      { do: 'wait' as const, ms: transport.waitMs },
    ],
    ending: transport.ending,
  };
  return (await playConnection(target, { open: 'upgrade', protocol: 'graphql-transport-ws' }, script)).problems;
}

function fuzzDocuments(mode: Mode, redis?: () => RedisServer) {
  const name = `GraphQL documents over WebSocket, SSE and HTTP (${mode})`;
  it(
    `${name}: no crash, no error logged, no internal error answered, the honest client keeps receiving, nothing accepted is lost`,
    async () => {
      const target = await FuzzTarget.start(mode, redis?.());
      onTestFinished(() => target.dispose());
      await target.markHeapBaseline();
      const requests = fc.array(fc.tuple(operationArb(target.world), transportArb), { minLength: 1, maxLength: 4 });
      let cases = 0;
      await assertFuzz(
        FILE,
        name,
        fc.asyncProperty(requests, async (batch) => {
          cases += 1;
          const problems = (await Promise.all(batch.map(([operation, transport]) => play(target, operation, transport)))).flat();
          await target.checkHealthy(`case ${cases}`);
          if (problems.length) throw new Error(`[${mode}] case ${cases}: ${problems.join('\n')}`);
          if (cases % 20 === 0) await target.checkLedger(`case ${cases}`);
          await target.afterCase(cases, name);
        }),
        fuzzParameters(name, RUNS),
      ).finally(() => console.log(`[fuzz] ${name} reached: ${target.statsLine()}`));
      await target.checkLedger('after the fuzz');
      await target.checkHeapReturns(HEAP_SLACK_BYTES);
      await target.checkHealthy('the heap check');
    },
    fuzzTimeout(RUNS, 2_500),
  );
}

describe('protocol fuzz: GraphQL documents, in memory', () => {
  fuzzDocuments('memory');
});

describe('protocol fuzz: GraphQL documents, Redis mode', () => {
  const redis = useRedis();
  fuzzDocuments('redis', redis);
});
