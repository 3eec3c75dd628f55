import type { ServerStatsSnapshot } from '../graphql/mappers.ts';

export interface StatsSources {
  connections(): number;
  subscriptions(): number;
  messagesIn(): number;
  deliveries(): number;
}

/**
 * This instance's figures for the `serverStats` dashboard. Rates come from one sampler a second shared by every
 * dashboard subscriber, not from each of them.
 */
export function createServerStats(sources: StatsSources) {
  let last = { at: Date.now(), messages: sources.messagesIn(), deliveries: sources.deliveries() };
  let rates = { messagesPerSecond: 0, deliveriesPerSecond: 0 };
  const sampler = setInterval(() => {
    const now = { at: Date.now(), messages: sources.messagesIn(), deliveries: sources.deliveries() };
    const seconds = Math.max(0.001, (now.at - last.at) / 1000);
    rates = {
      messagesPerSecond: (now.messages - last.messages) / seconds,
      deliveriesPerSecond: (now.deliveries - last.deliveries) / seconds,
    };
    last = now;
  }, 1_000);
  sampler.unref();

  return {
    async snapshot(): Promise<ServerStatsSnapshot> {
      return {
        at: new Date().toISOString(),
        instances: 1,
        connections: sources.connections(),
        subscriptions: sources.subscriptions(),
        ...rates,
      };
    },
    stop: () => clearInterval(sampler),
  };
}
