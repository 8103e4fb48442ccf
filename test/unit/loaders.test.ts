import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { BidResolver } from '../../src/resolvers/bid.resolver.js';
import { AuctionResolver } from '../../src/resolvers/auction.resolver.js';
import type { RequestContext } from '../../src/resolvers/context.js';
import type { ServiceDeps } from '../../src/services/deps.js';
import type { AuctionRecord, LiveState } from '../../src/domain/auction.js';
import type { BidView } from '../../src/domain/bid.js';

const NOW = new Date('2026-03-01T12:00:00.000Z');

function auctionRecord(id: string, leadingBidId: string | null): AuctionRecord {
  return {
    id,
    sellerId: randomUUID(),
    title: 'Lamp',
    description: '',
    currency: 'USD',
    startingPrice: 1_00,
    reservePrice: null,
    buyNowPrice: null,
    startsAt: new Date(NOW.getTime() - 60_000),
    endsAt: new Date(NOW.getTime() + 60_000),
    softCloseSeconds: 0,
    state: 'OPEN',
    cancelledAt: null,
    currentPrice: 2_00,
    bidCount: 2,
    lastSeq: 2,
    leadingBidId,
    leaderId: null,
    winnerId: null,
    createdAt: NOW,
  };
}

/** Services whose reads are counted: what a page of bids costs Postgres and the price book. */
function countedServices(auctions: AuctionRecord[]) {
  const reads = { auctions: 0, bids: 0, peeks: 0 };
  const db = {
    auction: {
      findMany: async ({ where }: { where: { id: { in: string[] } } }) => {
        reads.auctions++;
        return auctions.filter((a) => where.id.in.includes(a.id));
      },
    },
    bid: {
      findMany: async ({ where }: { where: { id: { in: string[] } } }) => {
        reads.bids++;
        return where.id.in.map((id) => ({ id, auctionId: auctions[0]!.id, bidderId: randomUUID(), amount: 2_00, seq: 2, placedAt: NOW, bidder: { displayName: 'Ann' } }));
      },
    },
  };
  const priceBook = {
    peek: async () => {
      reads.peeks++;
      return new Map<string, LiveState>();
    },
    recentBid: async () => null,
  };
  const services = { db, priceBook, clock: { now: () => NOW }, logger: pino({ level: 'silent' }) } as unknown as ServiceDeps;
  const ctx: RequestContext = { viewer: null, requestId: 'r', clientIp: '127.0.0.1', logger: services.logger, services };
  return { services, ctx, reads };
}

describe('per-request loaders', () => {
  it("reads the auctions of a page of bids once for every bid's status, not once per bid", async () => {
    const leading = randomUUID();
    const auctions = [auctionRecord(randomUUID(), leading), auctionRecord(randomUUID(), null)];
    const { services, ctx, reads } = countedServices(auctions);
    const resolver = new BidResolver(services);
    const bids: BidView[] = Array.from({ length: 20 }, (_, i) => ({
      id: i === 0 ? leading : randomUUID(),
      auctionId: auctions[i % 2]!.id,
      bidderId: randomUUID(),
      amount: 1_00 + i,
      seq: i + 1,
      placedAt: NOW,
      bidderAlias: 'A***n',
      kind: 'PLACED',
      maxAmount: null,
    }));
    const statuses = await Promise.all(bids.map((bid) => resolver.status(bid, ctx)));
    expect(statuses[0]).toBe('LEADING');
    expect(statuses.slice(1).every((status) => status === 'OUTBID')).toBe(true);
    expect(reads).toEqual({ auctions: 1, bids: 0, peeks: 1 });
  });

  it("reads the leading bids of a page of auctions once, and reads again on the next tick rather than keeping a copy", async () => {
    const auctions = Array.from({ length: 10 }, () => auctionRecord(randomUUID(), randomUUID()));
    const { services, ctx, reads } = countedServices(auctions);
    const resolver = new AuctionResolver(services);
    const views = auctions.map((a) => ({ ...a, status: 'ACTIVE' as const, minimumNextBid: 2_10, reserveStatus: 'NO_RESERVE' as const, offeredBuyNowPrice: null }));
    const leaders = await Promise.all(views.map((auction) => resolver.leadingBid(auction, ctx)));
    expect(leaders.map((bid) => bid?.id)).toEqual(auctions.map((a) => a.leadingBidId));
    expect(reads.bids).toBe(1);
    await resolver.leadingBid(views[0]!, ctx);
    expect(reads.bids).toBe(2);
  });
});
