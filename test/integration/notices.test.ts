import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import type { LiveNotice } from '../../src/ports/live-events.js';
import { describeApp, startTestApp, type TestApp } from '../support/app.js';
import { createAuction, signUpCast } from '../support/factories.js';
import { connect, subscribe } from '../support/ws-client.js';
import { NoticesDocument } from '../generated/graphql.js';

describeApp('the notices subscription', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    await app?.close();
  });

  it('answers notices without a token with UNAUTHENTICATED', async () => {
    const client = await connect(app.wsUrl);
    const notices = subscribe(client, NoticesDocument);
    await notices.ended();
    expect(notices.errors.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    await client.dispose();
  });

  it("delivers the signed-in user's own notices with their auction, and not another user's", async () => {
    const { seller, alice, bob } = await signUpCast(app.url);
    const auction = await createAuction(app.url, seller, { title: 'Brass telescope' });
    const [aliceClient, bobClient] = [await connect(app.wsUrl, alice.token), await connect(app.wsUrl, bob.token)];
    const [aliceNotices, bobNotices] = [subscribe(aliceClient, NoticesDocument), subscribe(bobClient, NoticesDocument)];
    const notice = (userId: string, kind: LiveNotice['kind'], seq: number, amount: number | null): LiveNotice => ({
      userId,
      kind,
      auctionId: auction.id,
      seq,
      amount,
      at: '2026-11-22T12:00:00.000Z',
    });

    // A subscription starts listening a moment after it is sent. Each stream passes one notice on
    // once however often it is published, so publishing a first one until both have it shows both listen.
    await vi.waitFor(
      async () => {
        await app.deps.live.publishNotices([notice(alice.id, 'UNSOLD', 1, null), notice(bob.id, 'UNSOLD', 1, null)]);
        expect([aliceNotices.events.length, bobNotices.events.length]).toEqual([1, 1]);
      },
      { timeout: 10_000, interval: 50 },
    );
    // Bob's first: one that reached Alice's stream would arrive there before her own.
    await app.deps.live.publishNotices([notice(bob.id, 'CANCELLED', 3, null), notice(alice.id, 'WON', 4, 12_50)]);

    await aliceNotices.waitFor(2);
    await bobNotices.waitFor(2);
    expect(aliceNotices.events[1]!.notices).toEqual({ kind: 'WON', seq: 4, at: '2026-11-22T12:00:00.000Z', amount: '12.50', auction: { id: auction.id, title: 'Brass telescope' } });
    expect(bobNotices.events[1]!.notices).toMatchObject({ kind: 'CANCELLED', seq: 3, amount: null });
    await aliceClient.dispose();
    await bobClient.dispose();
  });
});
