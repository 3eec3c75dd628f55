import fc from 'fast-check';
import { describe, it, onTestFinished } from 'vitest';
import { useRedis, type RedisServer } from '../utils/redis-server.ts';
import { scriptArb } from './support/frames.ts';
import { assertFuzz, fuzzParameters, fuzzTimeout } from './support/runs.ts';
import { FuzzTarget, type Mode } from './support/target.ts';
import { cutUpgradeArb, playConnection, upgradeArb } from './support/ws-driver.ts';

/**
 * Hostile graphql-ws clients against a live server process (`src/main.ts` spawned, memory and Redis mode).
 *
 * Frames: random and mutated frames on open sockets (every message type, odd ids and payloads, sizes around
 * MAX_PAYLOAD_BYTES, binary and malformed frames, bursts), ending by close, FIN, RST or by never answering the
 * server's close; up to three such connections per case, at once. Upgrades: requests refused (404) or cut
 * part-way, then reset. After every case the process runs, logged no error and no internal-error close, and an
 * honest graphql-ws client beside it still receives a message; at the end no accepted message is lost, nothing
 * sent after the server's close was stored, and the heap is back near where it started.
 */
const FILE = 'test/fuzz/ws-frames.test.ts';
const FRAME_RUNS = 40;
const UPGRADE_RUNS = 25;
const HEAP_SLACK_BYTES = Number(process.env.FUZZ_HEAP_SLACK_MB ?? 64) * 1024 * 1024;

async function startTarget(mode: Mode, redis?: () => RedisServer): Promise<FuzzTarget> {
  const target = await FuzzTarget.start(mode, redis?.());
  onTestFinished(() => target.dispose());
  return target;
}

function fuzzWebSocket(mode: Mode, redis?: () => RedisServer) {
  const frames = `graphql-ws frames (${mode})`;
  it(
    `${frames}: the process survives, the honest client keeps receiving, nothing accepted is lost, memory comes back`,
    async () => {
      const target = await startTarget(mode, redis);
      await target.markHeapBaseline();
      const connections = fc.array(fc.tuple(upgradeArb, scriptArb(target.world)), { minLength: 1, maxLength: 3 });
      let cases = 0;
      await assertFuzz(
        FILE,
        frames,
        fc.asyncProperty(connections, async (scripts) => {
          cases += 1;
          const outcomes = await Promise.all(scripts.map(([opening, script]) => playConnection(target, opening, script)));
          await target.checkHealthy(`case ${cases}`);
          const problems = outcomes.flatMap((o) => o.problems);
          if (problems.length) throw new Error(`[${mode}] case ${cases}: ${problems.join('\n')}`);
          // At once when a frame was sent after a close (defect 2 shows here), else every 20 cases.
          if (target.afterClose.length || cases % 20 === 0) await target.checkLedger(`case ${cases}`);
          await target.afterCase(cases, frames);
        }),
        fuzzParameters(frames, FRAME_RUNS),
      ).finally(() => console.log(`[fuzz] ${frames} reached: ${target.statsLine()}`));
      await target.checkLedger('after the fuzz');
      await target.checkHeapReturns(HEAP_SLACK_BYTES);
      await target.checkHealthy('the heap check');
    },
    fuzzTimeout(FRAME_RUNS, 2_500),
  );

  const upgrades = `upgrades cut or refused, then reset (${mode})`;
  it(
    `${upgrades}: the process survives and the honest client keeps receiving`,
    async () => {
      const target = await startTarget(mode, redis);
      let cases = 0;
      await assertFuzz(
        FILE,
        upgrades,
        fc.asyncProperty(fc.array(cutUpgradeArb, { minLength: 1, maxLength: 4 }), async (openings) => {
          cases += 1;
          const script = { greet: false, answerClose: true, actions: [], ending: { end: 'reset' as const } };
          await Promise.all(openings.map((opening) => playConnection(target, opening, script)));
          await target.checkHealthy(`case ${cases}`);
        }),
        fuzzParameters(upgrades, UPGRADE_RUNS),
      ).finally(() => console.log(`[fuzz] ${upgrades} reached: ${target.statsLine()}`));
    },
    fuzzTimeout(UPGRADE_RUNS, 1_000),
  );
}

describe('protocol fuzz: WebSocket, in memory', () => {
  fuzzWebSocket('memory');
});

describe('protocol fuzz: WebSocket, Redis mode', () => {
  const redis = useRedis();
  fuzzWebSocket('redis', redis);
});
