import { pino } from 'pino';
import { Registry } from 'prom-client';
import { expect, it } from 'vitest';
import { createPrometheusMetrics, type PrometheusMetricsOptions } from '../../src/adapters/metrics/prometheus-metrics.js';

const silent = pino({ enabled: false });

function metricsWith(options: Partial<PrometheusMetricsOptions> = {}) {
  const registry = new Registry();
  const metrics = createPrometheusMetrics(registry, { consumerLag: { groups: [], read: async () => 0 }, logger: silent, ...options });
  /** The values of one metric, by its labels as JSON. */
  const values = async (name: string) => {
    const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
    return Object.fromEntries((metric?.values ?? []).map((v) => [JSON.stringify(v.labels), v.value]));
  };
  return { metrics, values };
}

it('gives each operation name a series until the cap, then counts new names as "other" and unnamed ones as "anonymous"', async () => {
  const { metrics, values } = metricsWith({ maxOperationNames: 2 });
  for (const operation of ['PlaceBid', 'Me', 'Invented1', 'PlaceBid', 'Invented2', null]) {
    metrics.operation({ transport: 'http', operation, outcome: 'OK', seconds: 0.01 });
  }
  const series = (operation: string) => JSON.stringify({ operation, outcome: 'OK', transport: 'http' });
  expect(await values('auction_graphql_operations_total')).toEqual({
    [series('PlaceBid')]: 2,
    [series('Me')]: 1,
    [series('other')]: 2,
    [series('anonymous')]: 1,
  });
});

it('reads consumer lag at each scrape, leaving out a group whose lag fails or does not come in time', async () => {
  let persisterLag = 3;
  let notifierFails = true;
  const { values } = metricsWith({
    consumerLag: {
      groups: ['bid-persister', 'notifier', 'stuck'],
      read: async (group) => {
        if (group === 'stuck') return new Promise<number>(() => {});
        if (group === 'notifier' && notifierFails) throw new Error('broker unreachable');
        return group === 'notifier' ? 7 : persisterLag;
      },
      timeoutMs: 20,
    },
  });
  expect(await values('auction_consumer_lag_messages')).toEqual({ [JSON.stringify({ group: 'bid-persister' })]: 3 });

  persisterLag = 0;
  notifierFails = false;
  expect(await values('auction_consumer_lag_messages')).toEqual({ [JSON.stringify({ group: 'bid-persister' })]: 0, [JSON.stringify({ group: 'notifier' })]: 7 });

  notifierFails = true;
  expect(await values('auction_consumer_lag_messages')).toEqual({ [JSON.stringify({ group: 'bid-persister' })]: 0 });
});

it('reads open WebSocket connections and subscriptions from the gateway at each scrape', async () => {
  const { metrics, values } = metricsWith();
  expect(await values('auction_websocket_connections')).toEqual({ '{}': 0 });
  let stats = { connections: 2, subscriptions: 5 };
  metrics.observeWebSockets(() => stats);
  expect(await values('auction_websocket_connections')).toEqual({ '{}': 2 });
  expect(await values('auction_graphql_active_subscriptions')).toEqual({ '{}': 5 });
  stats = { connections: 1, subscriptions: 0 };
  expect(await values('auction_graphql_active_subscriptions')).toEqual({ '{}': 0 });
});
