import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { describeApp, startTestApp, type TestApp } from '../support/app.js';
import { fails, ok, raw } from '../support/client.js';
import { createAuction, signUpCast, signUpUser, type TestUser } from '../support/factories.js';
import { startFakeTwilio, type FakeTwilio } from '../support/fake-twilio.js';
import { connect, subscribe } from '../support/ws-client.js';
import { AuctionEventsDocument, PlaceBidDocument } from '../generated/graphql.js';

/** Samples of one scrape, keyed by name and sorted labels, as `name{a="1",b="2"}`. */
type Scrape = Map<string, number>;

const sampleKey = (name: string, labels: Record<string, string>) =>
  `${name}{${Object.keys(labels)
    .sort()
    .map((label) => `${label}="${labels[label]}"`)
    .join(',')}}`;

/** Parses Prometheus's text format; every line that is not a comment must be a sample. */
function parseExposition(text: string): Scrape {
  const samples: Scrape = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a sample: ${line}`);
    const [, name, labelText = '', value] = match;
    const labels = Object.fromEntries([...labelText.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map(([, label, v]) => [label!, v!]));
    samples.set(sampleKey(name!, labels), value === '+Inf' ? Infinity : Number(value));
  }
  return samples;
}

const metricsUrl = (app: TestApp) => app.url.replace(/\/graphql$/, '/metrics');

async function scrape(app: TestApp): Promise<Scrape> {
  const response = await fetch(metricsUrl(app));
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseExposition(await response.text());
}

/** A sample's value; a counter that was never incremented has no sample yet, which is 0. */
const value = (scrape: Scrape, name: string, labels: Record<string, string> = {}) => scrape.get(sampleKey(name, labels)) ?? 0;

const ACCOUNT_SID = `AC${'3'.repeat(32)}`;
const AUTH_TOKEN = 'fake-twilio-auth-token';

describeApp('metrics', () => {
  let fake: FakeTwilio;
  let app: TestApp;
  let seller: TestUser;
  let alice: TestUser;
  let bob: TestUser;
  beforeAll(async () => {
    fake = await startFakeTwilio({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
    app = await startTestApp({
      env: { TWILIO_ACCOUNT_SID: ACCOUNT_SID, TWILIO_AUTH_TOKEN: AUTH_TOKEN, TWILIO_FROM_NUMBER: '+15005550006', TWILIO_API_URL: fake.url },
    });
  });
  afterAll(async () => {
    await app?.close();
    await fake?.close();
  });

  const bid = (user: TestUser, auctionId: string, amount: string) =>
    ok(app.url, PlaceBidDocument, { input: { auctionId, amount, idempotencyKey: randomUUID() } }, user.token);

  it('serves the process default metrics in the Prometheus text format', async () => {
    const samples = await scrape(app);
    expect(value(samples, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(value(samples, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
  });

  it('counts GraphQL operations by name and outcome, and bids accepted and refused by reason', async () => {
    const before = await scrape(app);
    ({ seller, alice, bob } = await signUpCast(app.url));
    const auction = await createAuction(app.url, seller, { startingPrice: '10.00' });
    await bid(alice, auction.id, '10.00');
    const refused = await fails(app.url, PlaceBidDocument, { input: { auctionId: auction.id, amount: '10.00', idempotencyKey: randomUUID() } }, bob.token);
    expect(refused.extensions?.code).toBe('BID_TOO_LOW');
    expect((await raw(app.url, '{ serverTime }')).errors).toBeUndefined();

    // The HTTP sample is taken when the response has ended on the server, just after the client read it.
    await vi.waitFor(async () => {
      const after = await scrape(app);
      const delta = (name: string, labels: Record<string, string> = {}) => value(after, name, labels) - value(before, name, labels);
      const operations = 'auction_graphql_operations_total';
      expect(delta(operations, { operation: 'SignUp', outcome: 'OK', transport: 'http' })).toBe(3);
      expect(delta(operations, { operation: 'CreateAuction', outcome: 'OK', transport: 'http' })).toBe(1);
      expect(delta(operations, { operation: 'PlaceBid', outcome: 'OK', transport: 'http' })).toBe(1);
      expect(delta(operations, { operation: 'PlaceBid', outcome: 'BID_TOO_LOW', transport: 'http' })).toBe(1);
      expect(delta(operations, { operation: 'anonymous', outcome: 'OK', transport: 'http' })).toBe(1);
      expect(delta('auction_graphql_operation_duration_seconds_count', { operation: 'PlaceBid', transport: 'http' })).toBe(2);
      expect(delta('auction_graphql_operation_duration_seconds_count', { operation: 'SignUp', transport: 'http' })).toBe(3);

      expect(delta('auction_bids_accepted_total')).toBe(1);
      expect(delta('auction_bids_refused_total', { reason: 'BID_TOO_LOW' })).toBe(1);
      expect(delta('auction_bid_log_publish_duration_seconds_count', { outcome: 'ok' })).toBe(1);
      expect(delta('auction_bid_log_publish_duration_seconds_count', { outcome: 'error' })).toBe(0);
    });
  });

  it('reports open WebSocket connections and streaming subscriptions, and counts each subscribe', async () => {
    const auction = await createAuction(app.url, seller);
    await bid(alice, auction.id, '10.00');
    const before = await scrape(app);

    const client = await connect(app.wsUrl, alice.token);
    const live = subscribe(client, AuctionEventsDocument, { auctionId: auction.id, afterSeq: 0 });
    await live.waitFor(1);
    const missing = subscribe(client, AuctionEventsDocument, { auctionId: randomUUID(), afterSeq: 0 });
    await missing.ended();
    expect(missing.errors[0]?.extensions?.code).toBe('NOT_FOUND');

    const during = await scrape(app);
    const delta = (name: string, labels: Record<string, string> = {}) => value(during, name, labels) - value(before, name, labels);
    expect(delta('auction_websocket_connections')).toBe(1);
    expect(delta('auction_graphql_active_subscriptions')).toBe(1);
    expect(delta('auction_graphql_operations_total', { operation: 'AuctionEvents', outcome: 'OK', transport: 'ws' })).toBe(1);
    expect(delta('auction_graphql_operations_total', { operation: 'AuctionEvents', outcome: 'NOT_FOUND', transport: 'ws' })).toBe(1);

    live.stop();
    await vi.waitFor(async () => {
      const stopped = await scrape(app);
      expect(value(stopped, 'auction_graphql_active_subscriptions')).toBe(value(before, 'auction_graphql_active_subscriptions'));
      expect(value(stopped, 'auction_websocket_connections')).toBe(value(before, 'auction_websocket_connections') + 1);
    });
    await client.dispose();
    await vi.waitFor(async () => {
      expect(value(await scrape(app), 'auction_websocket_connections')).toBe(value(before, 'auction_websocket_connections'));
    });
  });

  it('counts outbid SMS sent, suppressed within the window, and failed', async () => {
    const before = await scrape(app);
    const [carol, dan] = await Promise.all(
      ['Carol', 'Dan'].map((displayName, i) => signUpUser(app.url, { displayName, phone: `+1415555${2000 + i}`, smsOptIn: true })),
    );
    const sentBefore = fake.messages.length;
    const first = await createAuction(app.url, seller);
    await bid(carol!, first.id, '10.00');
    await bid(dan!, first.id, '15.00');
    await bid(carol!, first.id, '20.00');
    await bid(dan!, first.id, '25.00');
    // The failure must meet the second auction's SMS, not one of the first's still on its way.
    await fake.waitForMessages(sentBefore + 2);

    fake.failNext(1, { status: 400, code: 21211, message: "The 'To' number is not a valid phone number." });
    const second = await createAuction(app.url, seller);
    await bid(carol!, second.id, '10.00');
    await bid(dan!, second.id, '15.00');

    await vi.waitFor(
      async () => {
        const after = await scrape(app);
        const delta = (outcome: string) => value(after, 'auction_outbid_sms_total', { outcome }) - value(before, 'auction_outbid_sms_total', { outcome });
        // Carol outbid on the first auction, then Dan; Carol again within the window; Carol on the second, refused by Twilio.
        expect({ sent: delta('SENT'), suppressed: delta('SUPPRESSED'), failed: delta('FAILED') }).toEqual({ sent: 2, suppressed: 1, failed: 1 });
      },
      { timeout: 20_000, interval: 100 },
    );
  });

  it('reports worker groups caught up with the bid log once they persisted and notified every bid', async () => {
    await vi.waitFor(
      async () => {
        const samples = await scrape(app);
        expect(samples.get(sampleKey('auction_consumer_lag_messages', { group: 'bid-persister' }))).toBe(0);
        expect(samples.get(sampleKey('auction_consumer_lag_messages', { group: 'notifier' }))).toBe(0);
      },
      { timeout: 20_000, interval: 100 },
    );
  });

  it('reports the lag of worker groups that are not consuming, message by message', async () => {
    const gateway = await startTestApp({ roles: ['gateway'] });
    try {
      const before = await scrape(gateway);
      const cast = await signUpCast(gateway.url);
      const auction = await createAuction(gateway.url, cast.seller);
      for (const [bidder, amount] of [[cast.alice, '10.00'], [cast.bob, '11.00']] as const) {
        await ok(gateway.url, PlaceBidDocument, { input: { auctionId: auction.id, amount, idempotencyKey: randomUUID() } }, bidder.token);
      }
      const after = await scrape(gateway);
      for (const group of ['bid-persister', 'notifier']) {
        expect(value(after, 'auction_consumer_lag_messages', { group }) - value(before, 'auction_consumer_lag_messages', { group })).toBe(2);
      }
    } finally {
      await gateway.close();
    }
  });

  it('serves no /metrics when METRICS_ENABLED is false', async () => {
    const quiet = await startTestApp({ roles: ['gateway'], env: { METRICS_ENABLED: 'false' } });
    try {
      expect((await fetch(metricsUrl(quiet))).status).toBe(404);
    } finally {
      await quiet.close();
    }
  });
});
