import type { Context } from 'graphql-ws';
import type { Connection } from './connection-registry.ts';

/** graphql-ws's state of one socket (`ctx`): its acknowledgement and the operations graphql-ws itself runs. */
export type ProtocolContext = Context<Record<string, unknown>, unknown>;

/** What the edge reports to the composition root (metrics, logs). */
export interface WebSocketHooks {
  onOpen?(connection: Connection): void;
  onClose?(connection: Connection, code: number): void;
  /** A `next` frame was written to a socket. */
  onDelivery?(): void;
  onUpgradeRefused?(status: number): void;
  /** A connection_init was refused (4403 before ack). */
  onInitRefused?(): void;
  /** A socket was cut off for not reading (1013). */
  onSlowConsumer?(): void;
  /** A socket was cut off for sending too many frames (1008). */
  onFrameRateExceeded?(): void;
}
