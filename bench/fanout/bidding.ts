// The bids of the fan-out bench: placeBid over HTTP with rising amounts, at a fixed rate, recording
// when each answer came back (the start of every delivery latency).
import { setTimeout as sleep } from 'node:timers/promises';
import { placeBid } from '../support/api.js';
import type { Stream } from './stats.js';


export interface BidStream {
  /** Per auction key: the seq and answer time of every accepted measured bid. */
  streams: Map<number, Stream>;
  firstSentAt: number;
  seconds: number;
  accepted: number;
  tooLow: number;
  errors: string[];
  /** placeBid round trips, sorted, ms. */
  roundTrips: Float64Array;
}

/** Places bids with rising amounts from a few bidders, on the gateways in turn. */
export class Bidding {
  private readonly next = new Map<string, number>();
  private readonly count = new Map<string, number>();
  private turn = 0;

  constructor(
    private readonly urls: string[],
    private readonly tokens: string[],
  ) {}

  /** One accepted bid; BID_TOO_LOW is retried at the minimum the server names. */
  async bid(auctionId: string, key: number): Promise<{ seq: number; sentAt: number; answeredAt: number; tooLow: number } | { error: string }> {
    let tooLow = 0;
    for (let attempt = 0; attempt < 5; attempt++) {
      // A different bidder each time on the same auction: the leader does not outbid themself.
      const n = this.count.get(auctionId) ?? 0;
      this.count.set(auctionId, n + 1);
      const token = this.tokens[(key + n) % this.tokens.length]!;
      const url = this.urls[this.turn++ % this.urls.length]!;
      const sentAt = performance.now();
      const answer = await placeBid(url, token, auctionId, this.next.get(auctionId) ?? 100).catch((e: unknown) => ({ kind: 'error' as const, message: String(e) }));
      const answeredAt = performance.now();
      if (answer.kind === 'error') return { error: answer.message };
      this.next.set(auctionId, answer.next);
      if (answer.kind === 'accepted') return { seq: answer.seq, sentAt, answeredAt, tooLow };
      tooLow++;
    }
    return { error: 'BID_TOO_LOW five times in a row' };
  }

  async bidOrThrow(auctionId: string, key: number): Promise<number> {
    const result = await this.bid(auctionId, key);
    if ('error' in result) throw new Error(`warm-up bid failed: ${result.error}`);
    return result.seq;
  }

  /**
   * Starts bid i at i / rate seconds; bids on one auction wait for the previous one's answer (the
   * amounts must rise), so a slow placeBid on a single auction lowers the rate it reaches.
   */
  async stream(plan: Array<{ key: number; id: string }>, rate: number, warmSeqs: readonly number[]): Promise<BidStream> {
    const streams = new Map<number, Stream>();
    for (const { key } of plan) if (!streams.has(key)) streams.set(key, { answeredAt: new Map(), afterSeq: warmSeqs[key] ?? 0 });
    const result: BidStream = { streams, firstSentAt: performance.now(), seconds: 0, accepted: 0, tooLow: 0, errors: [], roundTrips: new Float64Array(0) };
    const roundTrips: number[] = [];
    const chains = new Map<number, Promise<void>>();
    let lastAnswer = result.firstSentAt;
    await atRate(plan.length, rate, (i) => {
      const { key, id } = plan[i]!;
      const chained = (chains.get(key) ?? Promise.resolve()).then(async () => {
        const r = await this.bid(id, key);
        if ('error' in r) {
          result.errors.push(r.error);
          return;
        }
        result.accepted++;
        result.tooLow += r.tooLow;
        roundTrips.push(r.answeredAt - r.sentAt);
        streams.get(key)!.answeredAt.set(r.seq, r.answeredAt);
        lastAnswer = Math.max(lastAnswer, r.answeredAt);
      });
      chains.set(key, chained);
      return chained;
    });
    result.seconds = (lastAnswer - result.firstSentAt) / 1000;
    result.roundTrips = Float64Array.from(roundTrips).sort();
    return result;
  }
}

/** Calls `fn(i)` for i < count, the i-th at i / rate seconds from now, and waits for them all. */
export async function atRate(count: number, rate: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  const start = performance.now();
  const running: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++) {
    const wait = start + (i * 1000) / rate - performance.now();
    if (wait > 1) await sleep(wait);
    running.push(fn(i));
  }
  await Promise.all(running);
}
