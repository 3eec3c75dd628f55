/** What one measured phase offered and observed; shared by the room phases (generator.ts) and documents.ts. */
import type { MutationTransport } from '../protocol.ts';
import type { Histogram } from './histogram.ts';

/** Offered load of one phase: a fixed rate of deliveries (open loop, paced), or saturation (closed loop). */
export type Load = { kind: 'rate'; deliveriesPerSec: number } | { kind: 'saturate'; inflight: number } | EditsLoad;
/** The documents scenario: editors typing at a rate each, readers watching. */
export type EditsLoad = { kind: 'edits'; editors: number; editsPerSec: number; readers: number };

export interface PhaseResult {
  load: Load;
  warmup: boolean;
  transport: MutationTransport;
  subscribers: number;
  rooms: number;
  /** Messages per second the schedule offered (rate phases), and what it offered in deliveries. */
  offeredMessagesPerSec: number | null;
  offeredDeliveriesPerSec: number | null;
  messagesSent: number;
  publishErrors: number;
  publishErrorSample: string | null;
  expectedDeliveries: number;
  deliveries: number;
  lost: number;
  duplicates: number;
  /** An id lower than the last one this subscriber saw (a reordering, or a late duplicate). */
  outOfOrder: number;
  misrouted: number;
  /** Every frame received by all sockets during the phase. */
  bytesReceived: number;
  /** Bytes of the MessageSent frames alone. */
  messageBytes: number;
  /** First scheduled send to last delivery. */
  durationMs: number;
  publishMs: number;
  /** Rate phases: how late the generator itself sent its latest message (its own lag, not the server's). */
  maxSendLagMs: number;
  /** From each message's intended send time (its schedule slot) to its receipt, per delivery. */
  latency: Histogram;
  generatorCpuMs: number;
  /** CPU time of the server processes and of Redis over the phase (first send to drained). */
  serverCpuMs: number | null;
  redisCpuMs: number | null;
  wallMs: number;
  closes: Record<string, number>;
  otherFrames: Record<string, number>;
  drained: boolean;
  /** Storm only: failed reconnects, and first drop to last delivery. */
  reconnectFailures: number;
  catchUpMs: number | null;
  /** Documents only: what the editors did and what the checks found (any problem fails the run). */
  documents?: DocumentsOutcome;
}

export interface DocumentsOutcome {
  /** Keystrokes applied locally; the OtClients compose those typed while an edit is in flight. */
  localEdits: number;
  /** editDocument answers UNAVAILABLE (a commit that lost too many races), resent with the same clientEditId. */
  retries: number;
  /** Versions committed in the phase (the probe edit, version 1, excluded). */
  editsCommitted: number;
  finalVersion: number;
  finalChars: number;
  editors: number;
  readers: number;
  /** Versions missing, doubled or out of order at any socket, editors that did not converge. */
  problems: string[];
}
