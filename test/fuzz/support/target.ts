import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { SEND_MESSAGE, type RoomEventPayload, type SentMessage } from '../../utils/chat.ts';
import { gql } from '../../utils/http-client.ts';
import { startInstance, type Instance } from '../../utils/instance.ts';
import type { RedisServer } from '../../utils/redis-server.ts';
import { signTestToken } from '../../utils/tokens.ts';
import { waitFor, within } from '../../utils/wait.ts';
import type { DocumentWorld } from './documents.ts';
import { ignoredByTriage } from './runs.ts';

export type Mode = 'memory' | 'redis';

export interface FuzzUser {
  id: string;
  token: string;
}

/** Rooms and users the generators draw from, so most fuzz reaches execution instead of NOT_FOUND. */
export interface World extends DocumentWorld {
  /** Fuzz users (valid tokens); the first one is an admin. */
  users: FuzzUser[];
  /** Public rooms, then one private room of the fuzz users. */
  roomIds: string[];
  /** A token for each room that may read it (to audit history). */
  readerOf: Map<string, string>;
}

/** The instance's settings for fuzzing: limits that would stop the fuzz at the door are raised, the rest stay. */
export function fuzzEnv(mode: Mode, redis?: RedisServer, extra: Record<string, string> = {}): Record<string, string> {
  return {
    // warn: every error-level line is JSON on stdout and is asserted on; info would log every socket.
    LOG_LEVEL: 'warn',
    MESSAGE_RATE: '1000',
    INIT_FAILURES_PER_ADDRESS: '1000000',
    CONNECTION_INIT_TIMEOUT_MS: '3000',
    HEARTBEAT_INTERVAL_MS: '2000',
    MAX_PAYLOAD_BYTES: '8192',
    MAX_HTTP_BODY_BYTES: '65536',
    MAX_CONNECTIONS: '500',
    SHUTDOWN_TIMEOUT_MS: '2000',
    // The inspector on a free loopback port: the heap property forces a full GC through it before it measures.
    NODE_OPTIONS: '--inspect=127.0.0.1:0',
    ...(mode === 'redis' && redis ? { REDIS_URL: redis.url, REDIS_PREFIX: redis.newPrefix() } : {}),
    ...extra,
  };
}

const HEAP_METRIC = 'chat_nodejs_heap_size_used_bytes';

/** What Node prints on stderr about the inspector `fuzzEnv` turns on: expected, not a fault. */
const INSPECTOR_NOTICE =
  /^(Debugger (listening on|attached|ending on)|For help, see: https:\/\/nodejs\.org\/|Waiting for the debugger to disconnect)/;

/**
 * What the honest client subscribes with, and fuzz `watch`es too with `$full` null, false, true or left out: a
 * subscription of another user with the same document must never change how the honest one is executed
 * (shared-shape execution keys on the coerced variables, defect 6).
 */
export const WATCH_EVENTS = /* GraphQL */ `
  subscription Watch($roomId: ID!, $after: ID, $full: Boolean = true) {
    roomEvents(roomId: $roomId, after: $after) {
      __typename
      ... on MessageSent {
        message {
          id
          roomId
          clientMessageId
          body @include(if: $full)
          author @include(if: $full) {
            id
            name
          }
        }
      }
      ... on MemberJoined {
        roomId
        user {
          id
        }
      }
      ... on MemberLeft {
        roomId
        user {
          id
        }
      }
      ... on TypingChanged {
        roomId
        typing
        user @include(if: $full) {
          id
        }
      }
    }
  }
`;

/**
 * One live server process under fuzz, with the observers the properties need: its log (every line after the
 * last check), an honest graphql-ws client subscribed beside the fuzz, and a ledger of every accepted message.
 */
export class FuzzTarget {
  readonly accepted: Array<{ roomId: string; id: string }> = [];
  /** clientMessageIds sent only after the server had closed that socket: none may ever be stored. */
  readonly afterClose: Array<{ roomId: string; clientMessageId: string; closeCode: number | null }> = [];
  /** What the fuzz reached (close codes, acks, results): printed after a run, to see that it got past the door. */
  readonly stats = new Map<string, number>();
  #logOffset = 0;
  #heapBaseline = 0;
  #honestSeq = 0;
  #honestEvents: RoomEventPayload[] = [];
  #honestProblems: string[] = [];
  #honest: Client | null = null;
  #disposeHonest: (() => void) | null = null;

  private constructor(
    readonly mode: Mode,
    readonly maxPayloadBytes: number,
    readonly instance: Instance,
    readonly world: World,
    readonly honestToken: string,
  ) {}

  static async start(mode: Mode, redis?: RedisServer, extra: Record<string, string> = {}): Promise<FuzzTarget> {
    const env = fuzzEnv(mode, redis, extra);
    const instance = await startInstance({ env, disposeAfterTest: false });
    try {
      const honestToken = await signTestToken({ sub: 'honest', name: 'Honest' });
      const users: FuzzUser[] = await Promise.all(
        ['mallory', 'trudy', 'eve'].map(async (id, i) => ({
          id,
          token: await signTestToken({ sub: id, name: id, ...(i === 0 ? { roles: ['admin'] } : {}) }),
        })),
      );
      const create = async (token: string, name: string, isPrivate: boolean, members: string[] = []) => {
        const response = await gql<{ createRoom: { id: string } }>(
          instance.graphqlUrl,
          `mutation($n: String!, $p: Boolean, $m: [ID!]) { createRoom(name: $n, private: $p, members: $m) { id } }`,
          { n: name, p: isPrivate, m: members },
          token,
        );
        if (!response.data) throw new Error(`createRoom failed: ${JSON.stringify(response)}`);
        return response.data.createRoom.id;
      };
      const lobby = await create(honestToken, 'lobby', false);
      const second = await create(users[1]!.token, 'second', false);
      const secret = await create(users[0]!.token, 'secret', true, ['trudy', 'honest']);
      // Real message ids for `after` / `before`, fixed at start so a replayed case draws the same ones.
      const messageIds: string[] = [];
      for (let i = 0; i < 3; i += 1) {
        const sent = await gql<{ sendMessage: { id: string } }>(
          instance.graphqlUrl,
          SEND_MESSAGE,
          { roomId: lobby, body: `seed ${i}` },
          honestToken,
        );
        if (!sent.data) throw new Error(`seed message refused: ${JSON.stringify(sent)}`);
        messageIds.push(sent.data.sendMessage.id);
      }
      const world: World = {
        users,
        userIds: [...users.map((u) => u.id), 'honest', 'nobody'],
        messageIds,
        roomIds: [lobby, second, secret],
        readerOf: new Map([
          [lobby, honestToken],
          [second, honestToken],
          [secret, honestToken],
        ]),
      };
      const target = new FuzzTarget(mode, Number(env.MAX_PAYLOAD_BYTES), instance, world, honestToken);
      await target.#subscribeHonest(lobby);
      return target;
    } catch (error) {
      await instance.dispose();
      throw error;
    }
  }

  get lobby(): string {
    return this.world.roomIds[0]!;
  }

  async #subscribeHonest(roomId: string): Promise<void> {
    const client = createClient({
      url: this.instance.wsUrl,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${this.honestToken}` },
      lazy: false,
      retryAttempts: 0,
      on: {
        closed: (event) => {
          const { code, reason } = event as { code?: number; reason?: string };
          this.#honestProblems.push(`honest socket closed ${code} ${reason ?? ''}`);
        },
        error: (error) => this.#honestProblems.push(`honest socket error ${String(error)}`),
      },
    });
    this.#honest = client;
    const joined = new Promise<void>((resolve) => {
      this.#disposeHonest = client.subscribe<{ roomEvents: RoomEventPayload }>(
        { query: WATCH_EVENTS, variables: { roomId } },
        {
          next: (result) => {
            if (result.errors) this.#honestProblems.push(`honest subscription got errors ${JSON.stringify(result.errors)}`);
            const event = result.data?.roomEvents;
            if (event) this.#honestEvents.push(event);
            resolve();
          },
          error: (error) => this.#honestProblems.push(`honest subscription error ${JSON.stringify(error)}`),
          complete: () => this.#honestProblems.push('honest subscription completed by the server'),
        },
      );
    });
    // The first event is the honest user's own MemberJoined: from then on the subscription is live.
    await within(joined, 10_000, 'the honest subscription to go live');
  }

  /** Every line logged since the last call that shows a server fault: pino level >= 50, or anything not JSON. */
  newLogFaults(): string[] {
    const output = this.instance.output();
    const end = output.lastIndexOf('\n') + 1;
    const fresh = output.slice(this.#logOffset, end);
    this.#logOffset = end;
    const faults: string[] = [];
    for (const line of fresh.split('\n')) {
      if (!line.trim()) continue;
      let entry: { level?: number } | null = null;
      try {
        entry = JSON.parse(line) as { level?: number };
      } catch {
        entry = null;
      }
      if (ignoredByTriage(line) || INSPECTOR_NOTICE.test(line)) continue;
      if (entry === null || typeof entry.level !== 'number' || entry.level >= 50)
        faults.push(line.length > 3_000 ? `${line.slice(0, 3_000)}…` : line);
    }
    return faults;
  }

  /**
   * The properties every case must leave true: the process runs, logged no fault, and the honest client
   * still gets a message sent now (bounded wait). Throws with the evidence.
   */
  async checkHealthy(label: string): Promise<void> {
    const problems: string[] = [];
    const exit = await Promise.race([this.instance.exited, new Promise<null>((resolve) => setTimeout(() => resolve(null), 20))]);
    if (exit !== null) problems.push(`process exited (${exit})`);
    if (exit === null) {
      try {
        await this.honestRoundTrip();
      } catch (error) {
        problems.push(`honest client: ${(error as Error).message}`);
      }
    }
    // The exit, if any, has its last words in the log by now.
    if (exit !== null) await new Promise((resolve) => setTimeout(resolve, 50));
    const faults = this.newLogFaults();
    if (faults.length) problems.push(`server logged ${faults.length} fault line(s):\n${faults.slice(0, 10).join('\n')}`);
    problems.push(...this.#honestProblems.splice(0));
    if (problems.length) throw new Error(`[${this.mode}] after ${label}: ${problems.join('\n')}`);
  }

  /** An honest message over HTTP reaches the honest subscription. */
  async honestRoundTrip(): Promise<void> {
    const clientMessageId = `honest-${(this.#honestSeq += 1)}`;
    const response = await gql<{ sendMessage: SentMessage }>(
      this.instance.graphqlUrl,
      SEND_MESSAGE,
      { roomId: this.lobby, body: `honest ${this.#honestSeq}`, clientMessageId },
      this.honestToken,
    );
    if (!response.data?.sendMessage) throw new Error(`honest sendMessage refused: ${JSON.stringify(response.errors)}`);
    this.accepted.push({ roomId: this.lobby, id: response.data.sendMessage.id });
    const arrived = () => this.#honestEvents.some((e) => e.message?.clientMessageId === clientMessageId);
    await waitFor(arrived, 10_000, `honest message ${clientMessageId} on the honest subscription`);
    // What came before it was delivered: keep only a short tail.
    if (this.#honestEvents.length > 1_000) this.#honestEvents.splice(0, this.#honestEvents.length - 100);
  }

  count(what: string, n = 1): void {
    this.stats.set(what, (this.stats.get(what) ?? 0) + n);
  }

  statsLine(): string {
    return [...this.stats.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
  }

  /** Records what a fuzz `sendMessage` answered with data: it must be in history at the end. */
  recordAccepted(roomId: string, id: string): void {
    this.count('accepted sendMessage');
    this.accepted.push({ roomId, id });
  }

  /** A room's stored messages, newest pages first, back to (at least) message `oldest` (ids sort in send order). */
  async history(roomId: string, oldest: string): Promise<Array<{ id: string; clientMessageId: string | null }>> {
    const token = this.world.readerOf.get(roomId) ?? this.honestToken;
    const all: Array<{ id: string; clientMessageId: string | null }> = [];
    let before: string | null = null;
    for (;;) {
      const response: {
        data?: { room: { messages: Array<{ id: string; clientMessageId: string | null }> } | null } | null;
        errors?: unknown;
      } = await gql(
        this.instance.graphqlUrl,
        `query($id: ID!, $before: ID) { room(id: $id) { messages(last: 500, before: $before) { id clientMessageId } } }`,
        { id: roomId, before },
        token,
      );
      const page = response.data?.room?.messages;
      if (!page) throw new Error(`history of ${roomId}: ${JSON.stringify(response.errors)}`);
      all.unshift(...page);
      if (page.length < 500 || compareIds(page[0]!.id, oldest) <= 0) return all;
      before = page[0]!.id;
    }
  }

  /**
   * No accepted message lost; nothing sent after the server's close stored. Checks what was recorded since the
   * last call (so a long run stays within HISTORY_LIMIT and pages only the recent history).
   */
  async checkLedger(label: string): Promise<void> {
    const accepted = this.accepted.splice(0);
    const afterClose = this.afterClose.splice(0);
    const problems: string[] = [];
    const rooms = new Set([...accepted.map((m) => m.roomId), ...afterClose.map((m) => m.roomId)]);
    for (const roomId of rooms) {
      const inRoom = accepted.filter((m) => m.roomId === roomId);
      const oldest = inRoom.length ? inRoom.map((m) => m.id).sort(compareIds)[0]! : this.world.messageIds[0]!;
      const stored = await this.history(roomId, oldest);
      const ids = new Set(stored.map((m) => m.id));
      const clientIds = new Set(stored.map((m) => m.clientMessageId));
      const lost = inRoom.filter((m) => !ids.has(m.id));
      if (lost.length)
        problems.push(
          `${lost.length} accepted message(s) missing from ${roomId}: ${lost
            .slice(0, 5)
            .map((m) => m.id)
            .join(', ')}`,
        );
      const executed = afterClose.filter((m) => m.roomId === roomId && clientIds.has(m.clientMessageId));
      if (executed.length) {
        problems.push(
          `${executed.length} sendMessage frame(s) sent after the server had closed the socket (close frame received, not answered) were executed (defect 2): ` +
            executed
              .slice(0, 5)
              .map((m) => `${m.clientMessageId} after close ${m.closeCode}`)
              .join(', '),
        );
      }
    }
    if (problems.length) throw new Error(`[${this.mode}] ${label}: ${problems.join('\n')}`);
  }

  async heapUsed(): Promise<number> {
    const text = await (await fetch(`${this.instance.url}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
    const line = text.split('\n').find((l) => l.startsWith(`${HEAP_METRIC} `));
    if (!line) throw new Error(`${HEAP_METRIC} not in /metrics`);
    return Number(line.slice(HEAP_METRIC.length + 1));
  }

  /**
   * The heap after a full collection: V8 collects when it likes, so without one a process that is idle after
   * the fuzz can sit on garbage for minutes, and "memory came back" would measure the GC, not a leak.
   * Forced through the inspector (Chrome DevTools Protocol `HeapProfiler.collectGarbage`).
   */
  async retainedHeap(): Promise<number> {
    const url = /ws:\/\/127\.0\.0\.1:\d+\/[\w-]+/.exec(this.instance.output())?.[0];
    if (!url) throw new Error('the instance printed no inspector URL (NODE_OPTIONS=--inspect)');
    const socket = new WebSocket(url);
    try {
      await within(new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject)), 5_000, 'the inspector');
      for (let id = 1; id <= 2; id += 1) {
        const done = new Promise<void>((resolve) => {
          const onMessage = (data: WebSocket.RawData) => {
            if ((JSON.parse(String(data)) as { id?: number }).id !== id) return;
            socket.off('message', onMessage);
            resolve();
          };
          socket.on('message', onMessage);
        });
        socket.send(JSON.stringify({ id, method: 'HeapProfiler.collectGarbage' }));
        await within(done, 20_000, 'a forced garbage collection');
      }
    } finally {
      socket.close();
    }
    return this.heapUsed();
  }

  /** The heap (after a full GC) the end of the run is compared with; see `afterCase`. */
  async markHeapBaseline(): Promise<void> {
    this.#heapBaseline = await this.retainedHeap();
  }

  /**
   * Bookkeeping between cases. A long run re-measures the heap baseline after REBASE_AT cases: by then the bounded
   * caches random documents fill (Yoga's parse and validation caches) are full, and growth from there on is what
   * the property is after. FUZZ_HEAP_TRACE=1 prints the heap every 250 cases.
   */
  async afterCase(cases: number, name: string): Promise<void> {
    if (cases === FuzzTarget.REBASE_AT) await this.markHeapBaseline();
    if (process.env.FUZZ_HEAP_TRACE && cases % 250 === 0) {
      console.log(`[fuzz] ${name} case ${cases}: heap after a full GC ${((await this.retainedHeap()) / 1048576).toFixed(1)} MB`);
    }
  }

  static readonly REBASE_AT = 500;

  /**
   * After a full GC, the heap is back within `slackBytes` of `baselineBytes` (itself measured after a full GC)
   * once the fuzz connections are gone: what stays is what the server keeps for good. Polled for a while, as
   * closed sockets' cleanup (heartbeat sweeps, close timeouts) takes a few seconds.
   */
  async checkHeapReturns(slackBytes: number, timeoutMs = 20_000): Promise<void> {
    const baselineBytes = this.#heapBaseline;
    let last = 0;
    try {
      await waitFor(
        async () => {
          last = await this.retainedHeap();
          return last <= baselineBytes + slackBytes;
        },
        timeoutMs,
        'heap to return to its baseline',
      );
    } catch {
      const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
      throw new Error(
        `[${this.mode}] heap after a full GC ${mb(last)} did not come back within ${mb(slackBytes)} of its baseline ${mb(baselineBytes)} in ${timeoutMs} ms (${this.statsLine().slice(0, 400)})`,
      );
    }
  }

  async dispose(): Promise<void> {
    this.#disposeHonest?.();
    await this.#honest?.dispose();
    await this.instance.dispose();
  }
}

/** Message ids sort in send order within a room; as strings of different lengths, shorter first. */
function compareIds(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}
