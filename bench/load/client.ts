// The bid benchmark's load generator: a child process of bench/bids.ts, so that the requests are
// made on an event loop (and a core) of their own and the server's CPU time is the server's alone.
// It runs the jobs it is sent over IPC, one at a time, and answers each with what it measured.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { formatMoney, parseMoney } from '../../src/domain/money.js';
import { Samples, bytesToUuid, type AutomaticMix, type BidTarget, type LoadJob, type LoadMessage, type LoadResult, type LoadUser } from './protocol.js';

const SERVER_TIME = JSON.stringify({ query: '{ serverTime }' });
const PLACE_BID = 'mutation PlaceBid($input: PlaceBidInput!) { placeBid(input: $input) { bid { id seq } auction { currentPrice minimumNextBid } } }';
/** An open-loop request sent this much later than its scheduled time counts as late. */
export const LATE_MS = 2;
/** How long the open loop waits for the last answers before counting them as dropped. */
const OPEN_GRACE_MS = 5_000;
/** Open-loop requests in flight at most; one more is dropped rather than sent. */
const OPEN_MAX_IN_FLIGHT = 4_096;
const REQUEST_TIMEOUT_MS = 30_000;

const send = (message: LoadMessage) => process.send!(message);
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
const auctionSets = new Map<string, Uint8Array>();
/** What the clients of this process last saw of each auction's minimum next bid, per auction set. */
const seenMinimum = new Map<string, Map<string, number>>();

type Outcome =
  | { kind: 'ok' }
  | { kind: 'accepted'; bidId: string; next: number }
  | { kind: 'tooLow'; next: number }
  | { kind: 'retry' }
  | { kind: 'error'; code: string; message: string };

interface Bid {
  auctionId: string;
  amount: number;
  /** Null for a plain bid, which is sent without the field, exactly as before automatic bids. */
  maxAmount: number | null;
  idempotencyKey: string;
}

function post(url: URL, body: string, token: string): Promise<{ data?: any; errors?: any[] }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${token}` },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          try {
            resolve(JSON.parse(text) as { data?: any; errors?: any[] });
          } catch {
            reject(new Error(`HTTP ${response.statusCode}: ${text.slice(0, 200)}`));
          }
        });
      },
    );
    request.setTimeout(REQUEST_TIMEOUT_MS, () => request.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    request.on('error', reject);
    request.end(body);
  });
}

async function serverTime(url: URL, user: LoadUser): Promise<Outcome> {
  const { data, errors } = await post(url, SERVER_TIME, user.token);
  if (data?.serverTime) return { kind: 'ok' };
  return { kind: 'error', code: errors?.[0]?.extensions?.code ?? 'NO_DATA', message: JSON.stringify(errors ?? data) };
}

/** One placeBid, read the way a bidding page reads it: the minimum to bid next, whoever won. */
async function placeBid(url: URL, user: LoadUser, bid: Bid): Promise<Outcome> {
  const input: Record<string, string> = { auctionId: bid.auctionId, amount: formatMoney(bid.amount), idempotencyKey: bid.idempotencyKey };
  if (bid.maxAmount !== null) input.maxAmount = formatMoney(bid.maxAmount);
  const body = JSON.stringify({ query: PLACE_BID, variables: { input } });
  const { data, errors } = await post(url, body, user.token);
  const placed = data?.placeBid;
  if (placed) return { kind: 'accepted', bidId: placed.bid.id as string, next: parseMoney(placed.auction.minimumNextBid) ?? bid.amount + 1 };
  const error = errors?.[0];
  const code: string = error?.extensions?.code ?? 'NO_DATA';
  if (code === 'BID_TOO_LOW') return { kind: 'tooLow', next: parseMoney(error.extensions.minimumNextBid) ?? bid.amount + 1 };
  if (code === 'UNAVAILABLE') return { kind: 'retry' };
  return { kind: 'error', code, message: JSON.stringify(errors ?? data) };
}

const attempt = (call: () => Promise<Outcome>): Promise<Outcome> =>
  call().catch((error: unknown): Outcome => ({ kind: 'error', code: 'TRANSPORT', message: error instanceof Error ? error.message : String(error) }));

/** Counts of one job's measured phase, and the accepted bids of all of it. */
class Tally {
  requests = 0;
  accepted = 0;
  automatic = 0;
  tooLow = 0;
  retries = 0;
  errors = 0;
  errorCodes: Record<string, number> = {};
  firstError?: string;
  latencies = new Samples();
  lastAnswer = 0;
  readonly acceptedIds = new Set<string>();
  /** Every request of the job, for the progress line. */
  all = 0;

  record(outcome: Outcome, latencyMs: number | null, answeredAt: number, bid?: Bid): void {
    this.all++;
    if (outcome.kind === 'accepted') this.acceptedIds.add(outcome.bidId);
    if (latencyMs === null) return;
    this.requests++;
    if (bid && bid.maxAmount !== null) this.automatic++;
    this.latencies.push(latencyMs);
    this.lastAnswer = Math.max(this.lastAnswer, answeredAt);
    if (outcome.kind === 'accepted') this.accepted++;
    else if (outcome.kind === 'tooLow') this.tooLow++;
    else if (outcome.kind === 'retry') this.retries++;
    else if (outcome.kind === 'error') {
      this.errors++;
      this.errorCodes[outcome.code] = (this.errorCodes[outcome.code] ?? 0) + 1;
      this.firstError ??= outcome.message.slice(0, 500);
    }
  }

  result(measureFrom: number): LoadResult {
    return {
      requests: this.requests,
      accepted: this.accepted,
      automatic: this.automatic,
      tooLow: this.tooLow,
      retries: this.retries,
      errors: this.errors,
      errorCodes: this.errorCodes,
      firstError: this.firstError,
      seconds: Math.max(0, this.lastAnswer - measureFrom) / 1000,
      latencies: this.latencies.toArray(),
      acceptedTotal: this.acceptedIds.size,
    };
  }
}

function reportProgress(tally: Tally): () => void {
  const timer = setInterval(() => send({ type: 'progress', requests: tally.all, accepted: tally.acceptedIds.size }), 500);
  return () => clearInterval(timer);
}

/**
 * Picks each bid's auction; `own` is the client's own memory for a single auction, the set's shared
 * one otherwise. With `automatic`, the mix's share of the picks (counted over the process, so the
 * share is exact whichever client sends them) carry a maxAmount.
 */
function bidPicker(target: BidTarget, startingPrice: number, automatic?: AutomaticMix) {
  const ids = target.kind === 'random' ? auctionSets.get(target.set) : undefined;
  if (target.kind === 'random' && !ids) throw new Error(`unknown auction set ${target.set}`);
  const shared = target.kind === 'random' ? seenFor(target.set) : new Map<string, number>();
  let picked = 0;
  const withMaximum = () => {
    const n = picked++;
    return automatic !== undefined && Math.floor((n + 1) * automatic.share) > Math.floor(n * automatic.share);
  };
  return (own: Map<string, number>): { bid: Bid; seen: Map<string, number> } => {
    const auctionId = target.kind === 'one' ? target.auctionId : bytesToUuid(ids!, Math.floor(Math.random() * (ids!.length / 16)));
    const seen = target.kind === 'one' ? own : shared;
    const amount = seen.get(auctionId) ?? startingPrice;
    const maxAmount = withMaximum() ? amount + 1 + Math.floor(Math.random() * automatic!.maxAboveCents) : null;
    return { bid: { auctionId, amount, maxAmount, idempotencyKey: randomUUID() }, seen };
  };
}

function seenFor(set: string): Map<string, number> {
  let seen = seenMinimum.get(set);
  if (!seen) seenMinimum.set(set, (seen = new Map()));
  return seen;
}

const learn = (seen: Map<string, number>, auctionId: string, outcome: Outcome) => {
  if (outcome.kind === 'accepted' || outcome.kind === 'tooLow') seen.set(auctionId, outcome.next);
};

async function waitUntil(epochMs: number): Promise<void> {
  const wait = epochMs - Date.now();
  if (wait > 0) await sleep(wait);
}

/**
 * Each client sends its next request as soon as the last one is answered. A bidder bids the
 * minimum next bid it last saw, and sends a bid answered UNAVAILABLE again with the same key.
 */
async function runClosed(job: Extract<LoadJob, { kind: 'closed' }>): Promise<LoadResult> {
  const url = new URL(job.url);
  const pick = job.operation.kind === 'placeBid' ? bidPicker(job.operation.target, job.startingPrice, job.operation.automatic) : undefined;
  const tally = new Tally();
  await waitUntil(job.startAt);
  const stopProgress = reportProgress(tally);
  const measureFrom = performance.now() + job.warmupSeconds * 1000;
  const deadline = measureFrom + job.seconds * 1000;
  await Promise.all(
    job.users.map(async (user) => {
      const own = new Map<string, number>();
      let retry: ReturnType<NonNullable<typeof pick>> | undefined;
      while (performance.now() < deadline) {
        const started = performance.now();
        let outcome: Outcome;
        let bid: Bid | undefined;
        if (!pick) outcome = await attempt(() => serverTime(url, user));
        else {
          const next = retry ?? pick(own);
          bid = next.bid;
          outcome = await attempt(() => placeBid(url, user, next.bid));
          retry = outcome.kind === 'retry' ? next : undefined;
          learn(next.seen, next.bid.auctionId, outcome);
        }
        const answered = performance.now();
        tally.record(outcome, started >= measureFrom ? answered - started : null, answered, bid);
      }
    }),
  );
  stopProgress();
  return tally.result(measureFrom);
}

/**
 * Sends requests at `rate` per second on a fixed schedule, whether or not earlier ones were answered,
 * and times each from its scheduled send time: a server (or generator) that falls behind shows as
 * latency, not as fewer requests (no coordinated omission).
 */
async function runOpen(job: Extract<LoadJob, { kind: 'open' }>): Promise<LoadResult> {
  const url = new URL(job.url);
  const pick = job.operation.kind === 'placeBid' ? bidPicker(job.operation.target, job.startingPrice, job.operation.automatic) : undefined;
  const shared = new Map<string, number>();
  const tally = new Tally();
  const intervalMs = 1000 / job.rate;
  const total = Math.round(job.rate * (job.warmupSeconds + job.seconds));
  const warmupCount = Math.round(job.rate * job.warmupSeconds);
  const open = { scheduled: total - warmupCount, sent: 0, late: 0, dropped: 0, maxLagMs: 0 };
  let inFlight = 0;
  const answered = new Set<Promise<void>>();

  await waitUntil(job.startAt);
  const stopProgress = reportProgress(tally);
  const start = performance.now();
  const measureFrom = start + warmupCount * intervalMs;
  const fire = (i: number, scheduledAt: number, now: number) => {
    const measured = i >= warmupCount;
    if (inFlight >= OPEN_MAX_IN_FLIGHT) {
      if (measured) open.dropped++;
      return;
    }
    const lag = now - scheduledAt;
    if (measured) {
      open.sent++;
      if (lag > LATE_MS) open.late++;
      open.maxLagMs = Math.max(open.maxLagMs, lag);
    }
    const user = job.users[i % job.users.length]!;
    let call: () => Promise<Outcome>;
    let bid: Bid | undefined;
    if (!pick) call = () => serverTime(url, user);
    else {
      const picked = pick(shared);
      bid = picked.bid;
      call = async () => {
        const outcome = await placeBid(url, user, picked.bid);
        learn(picked.seen, picked.bid.auctionId, outcome);
        return outcome;
      };
    }
    inFlight++;
    const done: Promise<void> = attempt(call).then((outcome) => {
      inFlight--;
      answered.delete(done);
      const at = performance.now();
      tally.record(outcome, measured ? at - scheduledAt : null, at, bid);
    });
    answered.add(done);
  };

  for (let i = 0; i < total; ) {
    const now = performance.now();
    while (i < total && start + i * intervalMs <= now) {
      fire(i, start + i * intervalMs, now);
      i++;
    }
    if (i < total) await sleep(Math.max(0, start + i * intervalMs - performance.now()));
  }
  const unanswered = await Promise.race([Promise.all(answered).then(() => 0), sleep(OPEN_GRACE_MS).then(() => answered.size)]);
  open.dropped += unanswered;
  stopProgress();
  return { ...tally.result(measureFrom), seconds: job.seconds, open };
}

/** One bid at the starting price on every auction of the set, retrying UNAVAILABLE until the auction is loaded. */
async function runPrime(job: Extract<LoadJob, { kind: 'prime' }>): Promise<LoadResult> {
  const url = new URL(job.url);
  const ids = auctionSets.get(job.set);
  if (!ids) throw new Error(`unknown auction set ${job.set}`);
  const seen = seenFor(job.set);
  const tally = new Tally();
  const stopProgress = reportProgress(tally);
  const count = ids.length / 16;
  const start = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: job.concurrency }, async (_, worker) => {
      const user = job.users[worker % job.users.length]!;
      while (next < count) {
        const bid = { auctionId: bytesToUuid(ids, next++), amount: job.startingPrice, maxAmount: null, idempotencyKey: randomUUID() };
        for (;;) {
          const sent = performance.now();
          const outcome = await attempt(() => placeBid(url, user, bid));
          tally.record(outcome, performance.now() - sent, performance.now());
          learn(seen, bid.auctionId, outcome);
          if (outcome.kind !== 'retry') break;
          await sleep(20);
        }
      }
    }),
  );
  stopProgress();
  return tally.result(start);
}

async function run(job: LoadJob): Promise<LoadResult | null> {
  switch (job.kind) {
    case 'auctions':
      auctionSets.set(job.set, job.ids);
      return null;
    case 'closed':
      return runClosed(job);
    case 'open':
      return runOpen(job);
    case 'prime':
      return runPrime(job);
  }
}

// One job at a time, in the order sent: the orchestrator never overlaps them.
let queue = Promise.resolve();
process.on('message', (job: LoadJob) => {
  queue = queue.then(async () => {
    try {
      const result = await run(job);
      send({ type: 'done', result });
    } catch (error) {
      send({ type: 'failed', error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    }
  });
});
process.on('disconnect', () => process.exit(0));
send({ type: 'ready' });

