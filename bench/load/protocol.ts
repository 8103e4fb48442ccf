// What the bid benchmark's orchestrator (bench/bids.ts) and its child processes (load/client.ts,
// load/engine.ts) say to each other over IPC ('advanced' serialization, so typed arrays travel as
// they are).

/** A bidder as the load generator knows it: who it is and the bearer token it sends. */
export interface LoadUser {
  id: string;
  token: string;
}

/** Where a bid scenario's bids go: one auction, or a random pick from a named set. */
export type BidTarget = { kind: 'one'; auctionId: string } | { kind: 'random'; set: string };

/**
 * Bids that carry a maxAmount: this share of a process's new bids (every other one at 0.5, not at
 * random, so the mix is exact), each with a maximum 0.01 to `maxAboveCents` above its amount, so
 * that leaders are defended by automatic bids and maximums get spent.
 */
export interface AutomaticMix {
  share: number;
  maxAboveCents: number;
}

export type Operation = { kind: 'serverTime' } | { kind: 'placeBid'; target: BidTarget; automatic?: AutomaticMix };

export type LoadJob =
  /** Auction ids (16 bytes each) kept under a name for later random picks. */
  | { kind: 'auctions'; set: string; ids: Uint8Array }
  /** N clients, each sending its next request when the previous one is answered. */
  | { kind: 'closed'; url: string; operation: Operation; users: LoadUser[]; startAt: number; warmupSeconds: number; seconds: number; startingPrice: number }
  /** Requests sent on a fixed schedule, answered or not. */
  | { kind: 'open'; url: string; operation: Operation; users: LoadUser[]; startAt: number; warmupSeconds: number; seconds: number; rate: number; startingPrice: number }
  /** One bid on every auction of a set, so each is in the price book before a scenario. */
  | { kind: 'prime'; url: string; set: string; users: LoadUser[]; concurrency: number; startingPrice: number };

/** What one load process measured in a job's measured phase (after the warm-up). */
export interface LoadResult {
  /** Requests sent in the measured phase, each counted once it was answered (or failed). */
  requests: number;
  /** Accepted bids answered in the measured phase. */
  accepted: number;
  /** Requests of the measured phase sent with a maxAmount (an AutomaticMix's share of them). */
  automatic: number;
  /** Answered BID_TOO_LOW: lost the race, bids the minimum it was told next. */
  tooLow: number;
  /** Answered UNAVAILABLE: sent again with the same idempotencyKey (closed loop) or only counted (open loop). */
  retries: number;
  /** Anything else: transport failures and unexpected GraphQL errors. */
  errors: number;
  errorCodes: Record<string, number>;
  firstError?: string;
  /** From the first request of the measured phase to the last answer of it. */
  seconds: number;
  /** Milliseconds per answered request; for the open loop, from the request's scheduled send time. */
  latencies: Float64Array;
  /** Every accepted bid of the whole job, warm-up and tail included: what the worker must persist. */
  acceptedTotal: number;
  /** Open loop only. */
  open?: { scheduled: number; sent: number; late: number; dropped: number; maxLagMs: number };
}

export type LoadMessage =
  | { type: 'ready' }
  | { type: 'progress'; requests: number; accepted: number }
  | { type: 'done'; result: LoadResult | null }
  | { type: 'failed'; error: string };

/** The engine-alone comparison: the decision and its durability, with no HTTP or GraphQL around them. */
export interface EngineJob {
  callers: number;
  seconds: number;
  warmupSeconds: number;
  redis: { url: string; keyPrefix: string };
  kafka: { brokers: string[]; topic: string };
  databaseUrl: string;
  poolSize: number;
  sellerId: string;
  bidderIds: string[];
  /** An OPEN auction in Postgres, with no bid, for the row-lock engine. */
  rowLockAuctionId: string;
}

export interface EngineRun {
  decisions: number;
  accepted: number;
  errors: number;
  firstError?: string;
  seconds: number;
  latencies: Float64Array;
  /** CPU seconds of the engine process over the measured phase. */
  cpuSeconds: number;
}

export type EngineMessage =
  | { type: 'phase'; name: 'price-book' | 'row-lock' }
  | { type: 'done'; priceBook: EngineRun; rowLock: EngineRun }
  | { type: 'failed'; error: string };

export const uuidToBytes = (id: string): Uint8Array => Buffer.from(id.replaceAll('-', ''), 'hex');

export function bytesToUuid(bytes: Uint8Array, index: number): string {
  const hex = Buffer.from(bytes.buffer, bytes.byteOffset + index * 16, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export interface Spread {
  p50: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentiles of the latencies of one or more processes. */
export function spread(parts: Float64Array[]): Spread {
  const all = concatenated(parts);
  all.sort();
  const rank = (p: number) => (all.length === 0 ? NaN : all[Math.min(all.length - 1, Math.ceil((p / 100) * all.length) - 1)]!);
  return { p50: rank(50), p99: rank(99), max: all.length === 0 ? NaN : all[all.length - 1]! };
}

/** The parts one after another, in a new array. */
export function concatenated(parts: Float64Array[]): Float64Array {
  const all = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    all.set(part, at);
    at += part.length;
  }
  return all;
}

/** A growable array of latencies that ends as one Float64Array. */
export class Samples {
  private data = new Float64Array(1 << 14);
  length = 0;

  push(value: number): void {
    if (this.length === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = value;
  }

  toArray(): Float64Array {
    return this.data.slice(0, this.length);
  }
}
