import type { Generator } from './generator.ts';

/** The generator's methods as they cross the IPC channel: one request, one reply, matched by id. */
export type GeneratorMethod = Exclude<keyof Generator, 'subscriberCount' | 'closes'>;

export interface RpcRequest {
  id: number;
  method: GeneratorMethod;
  params: unknown;
}

export type RpcReply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };
