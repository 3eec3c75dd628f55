import type { Plugin } from 'graphql-yoga';
import type { DeliveryEngine } from '../delivery/engine.ts';

/**
 * Makes Yoga (HTTP, SSE and WebSocket alike) subscribe through the delivery engine, so subscribers of one shape
 * share one execution per event whatever their transport (`src/delivery/engine.ts`).
 */
export function useSharedSubscriptionExecution(engine: DeliveryEngine): Plugin {
  return {
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn(engine.subscribe as Parameters<typeof setSubscribeFn>[0]);
    },
  };
}
