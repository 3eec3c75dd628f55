import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { ROOM_EVENTS, SEND_MESSAGE } from '../../utils/chat.ts';
import { acceptedSends, type GeneratedOperation } from './documents.ts';
import { tokenFor, type Action, type ConnectionScript, type Ending } from './frames.ts';
import { RawSocket } from './raw-ws.ts';
import { ignoredByTriage } from './runs.ts';
import { WATCH_EVENTS, type FuzzTarget } from './target.ts';

/** How a fuzz connection opens: a normal upgrade, or one that is refused or cut before the switch. */
export type Opening =
  | { open: 'upgrade'; protocol: 'graphql-transport-ws' | 'none' | 'graphql-ws' | 'garbage' }
  /** An upgrade the server refuses (unknown path: 404), then a TCP reset after `afterMs` (defect 1). */
  | { open: 'refused-then-reset'; path: string; afterMs: number }
  /** Part of the upgrade request, then a reset or a FIN. */
  | { open: 'partial-then-cut'; bytes: number; cut: 'reset' | 'fin' }
  /** A request ws itself rejects (bad version or key), then a reset. */
  | { open: 'malformed-then-reset'; variant: 'version' | 'no-key'; afterMs: number };

/** An upgrade that goes through (mostly with the right subprotocol; none, the legacy one or garbage now and then). */
export const upgradeArb: fc.Arbitrary<Opening> = fc.record({
  open: fc.constant('upgrade' as const),
  protocol: fc.oneof(
    { weight: 12, arbitrary: fc.constant('graphql-transport-ws') },
    { weight: 1, arbitrary: fc.constantFrom('none', 'graphql-ws', 'garbage') },
  ) as fc.Arbitrary<Extract<Opening, { open: 'upgrade' }>['protocol']>,
});

/** Upgrades that never become sockets: refused, partial or malformed, then cut. */
export const cutUpgradeArb: fc.Arbitrary<Opening> = fc.oneof(
  {
    weight: 1,
    arbitrary: fc.record({
      open: fc.constant('refused-then-reset' as const),
      path: fc.constantFrom('/', '/nope', '/graphql/x', '/metrics'),
      afterMs: fc.constantFrom(0, 0, 1, 5),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      open: fc.constant('partial-then-cut' as const),
      bytes: fc.integer({ min: 1, max: 200 }),
      cut: fc.constantFrom('reset' as const, 'fin' as const),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      open: fc.constant('malformed-then-reset' as const),
      variant: fc.constantFrom('version' as const, 'no-key' as const),
      afterMs: fc.constantFrom(0, 1),
    }),
  },
);

export interface ConnectionOutcome {
  /** Problems this connection saw on the wire (an internal-error close). */
  problems: string[];
}

/** Triage only (never in `npm test`): FUZZ_NO_PROBE=1 sends no frame after a close, to look past defect 2. */
const probeAfterCloses = process.env.FUZZ_NO_PROBE !== '1';

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Close codes that mean the server failed, whatever the client sent. */
const INTERNAL_CLOSES = new Set([1011, 4500]);

/**
 * Plays one connection's script against the target and ends it. Everything is bounded: a script never waits
 * for more than a few seconds in total.
 */
export async function playConnection(target: FuzzTarget, opening: Opening, script: ConnectionScript): Promise<ConnectionOutcome> {
  const port = target.instance.port;
  const problems: string[] = [];
  target.count(`opening ${opening.open}`);
  if (opening.open === 'refused-then-reset') {
    const raw = RawSocket.open({ port, path: opening.path });
    if (opening.afterMs > 0) await delay(opening.afterMs);
    raw.reset();
    return { problems };
  }
  if (opening.open === 'partial-then-cut') {
    const full = Buffer.from(RawSocket.upgradeRequest({}));
    const raw = RawSocket.open({ port }, full.subarray(0, Math.min(opening.bytes, full.length - 1)));
    await delay(1);
    if (opening.cut === 'reset') raw.reset();
    else raw.end();
    return { problems };
  }
  if (opening.open === 'malformed-then-reset') {
    const request = RawSocket.upgradeRequest({}).replace(
      opening.variant === 'version' ? 'Sec-WebSocket-Version: 13' : /Sec-WebSocket-Key: [^\r]+\r\n/,
      opening.variant === 'version' ? 'Sec-WebSocket-Version: 8' : '',
    );
    const raw = RawSocket.open({ port }, request);
    if (opening.afterMs > 0) await delay(opening.afterMs);
    raw.reset();
    return { problems };
  }

  const protocol = { 'graphql-transport-ws': 'graphql-transport-ws', none: null, 'graphql-ws': 'graphql-ws', garbage: 'x, y ,, z' }[
    opening.protocol
  ];
  const raw = RawSocket.open({ port, protocol, answerClose: script.answerClose });
  try {
    if (!(await raw.upgraded())) return { problems };
    const pending = new Map<string, GeneratedOperation[]>();
    let acked = false;
    let probed = false;
    let lastId: string | null = null;

    /** Once the server has closed and we have not answered: a mutation it must never run (defect 2). */
    const probeAfterClose = () => {
      const close = raw.closeFrame;
      if (!probeAfterCloses || !close || probed || !acked || !raw.writable) return;
      probed = true;
      const clientMessageId = `after-close-${randomUUID()}`;
      target.afterClose.push({ roomId: target.lobby, clientMessageId, closeCode: close.code });
      raw.text({
        id: `probe-${clientMessageId}`,
        type: 'subscribe',
        payload: { query: SEND_MESSAGE, variables: { roomId: target.lobby, body: 'after close', clientMessageId } },
      });
    };

    const greeting: Action[] = script.greet ? [{ do: 'init', token: 'valid', user: 1, payloadShape: 'authorization' }] : [];
    for (const action of [...greeting, ...script.actions]) {
      if (!raw.writable) break;
      lastId = await perform(target, raw, action, pending, lastId);
      acked ||= raw.messages().some((m) => m.type === 'connection_ack');
      probeAfterClose();
    }
    // Bounded: answers to the queries and mutations we sent arrive (or the server closes) before the ending.
    const expected = [...pending.values()].flat().filter((op) => op.kind !== 'subscription').length;
    const answered = () => raw.messages().filter((m) => m.type === 'complete' || m.type === 'error').length >= expected;
    await raw.until(() => raw.ended || raw.closeFrame !== undefined || answered(), 1_500).catch(() => undefined);
    probeAfterClose();
    ledger(target, raw, pending);
    await end(raw, script.ending);
  } finally {
    raw.destroy();
  }
  target.count(`ws upgrade ${raw.status}`);
  for (const m of raw.messages()) target.count(`ws ${m.type}`);
  const close = raw.closeFrame;
  target.count(`ws server close ${close ? close.code : 'none'}`);
  if (close && close.code !== null && INTERNAL_CLOSES.has(close.code)) {
    problems.push(`server closed a fuzz socket with ${close.code} "${close.reason}" (an internal error)`);
  }
  return { problems: problems.filter((p) => !ignoredByTriage(p)) };
}

/** Every accepted sendMessage answered on this socket goes to the ledger (frames matched to operations in order). */
function ledger(target: FuzzTarget, raw: RawSocket, sent: Map<string, GeneratedOperation[]>): void {
  const queues = new Map([...sent].map(([id, ops]) => [id, [...ops]]));
  for (const message of raw.messages()) {
    if (typeof message.id !== 'string') continue;
    const queue = queues.get(message.id);
    const operation = queue?.[0];
    if (!operation) continue;
    if (message.type === 'next') {
      const data = (message.payload as { data?: unknown } | undefined)?.data;
      for (const accepted of acceptedSends(operation, data)) target.recordAccepted(accepted.roomId, accepted.id);
    } else if (message.type === 'complete' || message.type === 'error') {
      queue.shift();
    }
  }
}

/** Plays one action; answers the operation id it used (for a later `duplicate`), or the previous one. */
async function perform(
  target: FuzzTarget,
  raw: RawSocket,
  action: Action,
  pending: Map<string, GeneratedOperation[]>,
  lastId: string | null,
): Promise<string | null> {
  const track = (id: string, operation: GeneratedOperation) => {
    const queue = pending.get(id) ?? [];
    queue.push(operation);
    pending.set(id, queue);
    raw.text({ id, type: 'subscribe', payload: { query: operation.query, variables: operation.variables } });
    return id;
  };
  const maxPayload = target.maxPayloadBytes;
  switch (action.do) {
    case 'send': {
      const roomId = target.world.roomIds[action.room]!;
      const variables = {
        roomId,
        body: action.body,
        ...(action.clientMessageId === null ? {} : { clientMessageId: action.clientMessageId }),
      };
      return track(action.id, { kind: 'mutation', query: SEND_MESSAGE, variables, sends: [{ key: 'sendMessage', roomId }] });
    }
    case 'watch': {
      const roomId = target.world.roomIds[action.room]!;
      const variables = {
        roomId,
        ...(action.after ? { after: target.world.messageIds[0] } : {}),
        ...(action.full === 'omitted' ? {} : { full: action.full }),
      };
      return track(action.id, { kind: 'subscription', query: WATCH_EVENTS, variables, sends: [] });
    }
    case 'duplicate': {
      if (lastId === null) return lastId;
      if (action.what === 'watch')
        return track(lastId, { kind: 'subscription', query: ROOM_EVENTS, variables: { roomId: target.lobby }, sends: [] });
      return track(lastId, { kind: 'query', query: '{ me { id } }', variables: {}, sends: [] });
    }
    case 'init': {
      const user = target.world.users[action.user]!;
      const authorization = await tokenFor(action.token, user.id, user.id, action.user === 0 ? ['admin'] : []);
      const payload: unknown = {
        authorization: authorization === null ? undefined : { authorization },
        'bare-string': authorization ?? 'nothing',
        array: [authorization],
        null: null,
        'extra-keys': { authorization, __proto__x: { polluted: true }, constructor: 'x', headers: { authorization: 'Bearer nope' } },
      }[action.payloadShape] as unknown;
      raw.text(payload === undefined ? { type: 'connection_init' } : { type: 'connection_init', payload });
      // Let a valid init be acknowledged before what follows, so the rest reaches execution (bounded).
      await raw
        .until(() => raw.ended || raw.closeFrame !== undefined || raw.messages().some((m) => m.type === 'connection_ack'), 1_000)
        .catch(() => undefined);
      return lastId;
    }
    case 'subscribe':
      return track(action.id, action.operation);
    case 'subscribe-odd':
      raw.text({ id: action.id, type: 'subscribe', payload: action.payload });
      return lastId;
    case 'complete':
      raw.text({ id: action.id, type: 'complete' });
      return lastId;
    case 'ping':
    case 'pong':
      raw.text(action.payload === undefined ? { type: action.do } : { type: action.do, payload: action.payload });
      return lastId;
    case 'unknown-type':
      raw.text({ type: action.type, id: '1', payload: action.extra });
      return lastId;
    case 'json':
      raw.text(JSON.stringify(action.value) ?? 'undefined');
      return lastId;
    case 'text':
      raw.text(action.text);
      return lastId;
    case 'huge': {
      // A well-formed ping padded to MAX_PAYLOAD_BYTES + delta bytes: just under is legal, just over closes 1009.
      const size = Math.max(32, maxPayload + action.delta);
      const prefix = '{"type":"ping","payload":{"p":"';
      const suffix = '"}}';
      raw.text(prefix + 'p'.repeat(size - prefix.length - suffix.length) + suffix);
      return lastId;
    }
    case 'binary':
      raw.frame(0x2, Buffer.from(action.bytes));
      return lastId;
    case 'control':
      raw.frame(action.opcode, action.payload.slice(0, 100));
      return lastId;
    case 'bad-frame':
      switch (action.kind) {
        case 'unmasked':
          raw.frame(0x1, '{"type":"ping"}', { mask: false });
          return lastId;
        case 'reserved-opcode':
          raw.frame(0x3, 'x');
          return lastId;
        case 'rsv-bits':
          raw.writeRaw(Buffer.from([0xc1, 0x81, 0, 0, 0, 0, 0x41]));
          return lastId;
        case 'fragment-no-end':
          raw.frame(0x1, '{"type":', { fin: false });
          return lastId;
        case 'partial':
          raw.writeRaw(Buffer.from([0x81, 0xfe, 0x01]));
          return lastId;
        case 'oversized-control':
          raw.frame(0x9, 'x'.repeat(200));
          return lastId;
      }
      return lastId;
    case 'burst':
      for (let i = 0; i < action.count; i += 1) raw.text({ type: 'ping' });
      return lastId;
    case 'wait':
      await delay(action.ms);
      return lastId;
  }
}

async function end(raw: RawSocket, ending: Ending): Promise<void> {
  switch (ending.end) {
    case 'close':
      raw.close(ending.code, ending.reason);
      await raw.until(() => raw.ended, 2_000).catch(() => undefined);
      return;
    case 'reset':
      raw.reset();
      return;
    case 'fin':
      raw.end();
      await raw.until(() => raw.ended, 2_000).catch(() => undefined);
      return;
    case 'linger':
      await delay(50);
      return;
  }
}
