// The subscribers of the fan-out bench: one WebSocket per subscriber, as real clients do. Each
// records every event it receives (seq and performance.now()) for the analysis afterwards; the
// load generator is one process, so all receipt and answer times come from the same clock.
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { fmt, type Stream } from './stats.js';

const CONNECT_TIMEOUT_MS = 30_000;
/** Warm-up rounds before the bench gives up on a subscriber that never receives anything. */
const WARM_UP_ROUNDS = 30;
/** How long the drain waits without any new receipt before it gives up on the missing events. */
const STALL_MS = 15_000;

export const AUCTION_EVENTS = 'subscription($id: ID!) { auctionEvents(auctionId: $id) { ... on BidPlaced { seq currentPrice bid { id amount bidderAlias } } } }';

/** What one subscriber received, in arrival order. */
export interface Receiver {
  readonly index: number;
  /** The key of the auction (stream) it listens to, for the analysis. */
  auction: number;
  seqs: number[];
  times: number[];
  /** Highest seq received so far; -1 before any. */
  maxSeq: number;
}

function record(receiver: Receiver, seq: number): void {
  receiver.seqs.push(seq);
  receiver.times.push(performance.now());
  if (seq > receiver.maxSeq) receiver.maxSeq = seq;
}

function reset(receiver: Receiver, auction: number): void {
  receiver.auction = auction;
  receiver.seqs = [];
  receiver.times = [];
  receiver.maxSeq = -1;
}

/** Counts failures by message, so 10,000 identical errors print as one line. */
export class Problems {
  readonly counts = new Map<string, number>();
  add(kind: string, detail: unknown): void {
    const text = `${kind}: ${detail instanceof Error ? detail.message : typeof detail === 'string' ? detail : JSON.stringify(detail)}`.slice(0, 300);
    this.counts.set(text, (this.counts.get(text) ?? 0) + 1);
  }
  clear(): void {
    this.counts.clear();
  }
  lines(max = 5): string[] {
    return [...this.counts].sort((a, b) => b[1] - a[1]).slice(0, max).map(([text, n]) => `${n} x ${text}`);
  }
}

interface GraphqlSubscriber extends Receiver {
  client: Client;
  connected: boolean;
  unsubscribe?: () => void;
}

/** `count` graphql-ws clients, subscriber i on gateway i mod urls.length. */
export class GraphqlSubscribers {
  readonly receivers: GraphqlSubscriber[] = [];
  readonly problems = new Problems();
  private closing = false;

  constructor(
    private readonly wsUrls: string[],
    private readonly count: number,
  ) {}

  /** Opens the connections (connection_init / ack, no subscription), `batch` at a time. */
  async connect(batch: number): Promise<{ connected: number; ms: number }> {
    const t0 = performance.now();
    for (let start = 0; start < this.count; start += batch) {
      const opening: Promise<void>[] = [];
      for (let i = start; i < Math.min(this.count, start + batch); i++) opening.push(this.open(i));
      await Promise.all(opening);
    }
    return { connected: this.receivers.filter((r) => r.connected).length, ms: performance.now() - t0 };
  }

  private open(index: number): Promise<void> {
    return new Promise<void>((resolve) => {
      let settled = false;
      const settle = (ok: boolean, why?: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        receiver.connected = ok;
        if (!ok) this.problems.add('connect', why);
        resolve();
      };
      const timer = setTimeout(() => settle(false, `no connection_ack within ${CONNECT_TIMEOUT_MS / 1000} s`), CONNECT_TIMEOUT_MS);
      const receiver = { index, auction: -1, seqs: [], times: [], maxSeq: -1, connected: false } as unknown as GraphqlSubscriber;
      this.receivers.push(receiver);
      receiver.client = createClient({
        url: this.wsUrls[index % this.wsUrls.length]!,
        webSocketImpl: WebSocket,
        // Connect now, so connections can be measured before any subscription exists.
        lazy: false,
        // A dropped connection must show up as lost events, not be healed behind the bench's back.
        retryAttempts: 0,
        onNonLazyError: (error) => {
          if (!this.closing) this.problems.add('connection', closeReason(error));
        },
        on: {
          connected: () => settle(true),
          closed: (event) => {
            if (!settled) settle(false, closeReason(event));
            else if (!this.closing) this.problems.add('closed by server', closeReason(event));
            receiver.connected = false;
          },
        },
      });
    });
  }

  /** Subscribes every connected client to `auctionEvents` of auctionIds[auctionOf(i)]; -1 leaves it idle. */
  subscribe(auctionIds: readonly string[], auctionOf: (index: number) => number): void {
    for (const receiver of this.receivers) {
      const auction = auctionOf(receiver.index);
      // A subscriber that could not connect still expects its events: they count as lost.
      reset(receiver, auction);
      if (!receiver.connected || auction < 0) continue;
      let active = true;
      const unsubscribe = receiver.client.subscribe<{ auctionEvents?: { seq?: number } }>(
        { query: AUCTION_EVENTS, variables: { id: auctionIds[auction] } },
        {
          next: (result) => {
            const seq = result.data?.auctionEvents?.seq;
            if (typeof seq === 'number') record(receiver, seq);
            else this.problems.add('next without seq', result.errors ?? result);
          },
          error: (error) => {
            if (active && !this.closing) this.problems.add('subscription error', closeReason(error));
          },
          complete: () => {
            if (active && !this.closing) this.problems.add('subscription completed by server', 'complete');
          },
        },
      );
      receiver.unsubscribe = () => {
        active = false;
        unsubscribe();
      };
    }
  }

  unsubscribeAll(): void {
    for (const receiver of this.receivers) receiver.unsubscribe?.();
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.allSettled(this.receivers.map((r) => r.client.dispose()));
  }
}

/** `count` plain `ws` sockets on the bare baseline servers; the messages mimic graphql-ws `next`. */
export class BareSubscribers {
  readonly receivers: Receiver[] = [];
  readonly problems = new Problems();
  private readonly sockets: WebSocket[] = [];
  private closing = false;

  constructor(
    private readonly wsUrls: string[],
    private readonly count: number,
  ) {}

  async connect(batch: number): Promise<{ connected: number; ms: number }> {
    const t0 = performance.now();
    let connected = 0;
    for (let start = 0; start < this.count; start += batch) {
      const opening: Promise<boolean>[] = [];
      for (let i = start; i < Math.min(this.count, start + batch); i++) opening.push(this.open(i));
      for (const ok of await Promise.all(opening)) if (ok) connected++;
    }
    return { connected, ms: performance.now() - t0 };
  }

  private open(index: number): Promise<boolean> {
    const receiver: Receiver = { index, auction: 0, seqs: [], times: [], maxSeq: -1 };
    this.receivers.push(receiver);
    const socket = new WebSocket(this.wsUrls[index % this.wsUrls.length]!);
    this.sockets.push(socket);
    socket.on('message', (data) => {
      const seq = (JSON.parse(data.toString()) as { payload?: { data?: { auctionEvents?: { seq?: number } } } }).payload?.data?.auctionEvents?.seq;
      if (typeof seq === 'number') record(receiver, seq);
    });
    return new Promise<boolean>((resolve) => {
      socket.once('open', () => resolve(true));
      socket.once('error', (error) => {
        this.problems.add('bare connect', error);
        resolve(false);
      });
      socket.once('close', (code) => {
        if (!this.closing) this.problems.add('bare closed', `code ${code}`);
        resolve(false);
      });
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(
      this.sockets.map(
        (socket) =>
          new Promise<void>((resolve) => {
            if (socket.readyState === WebSocket.CLOSED) return resolve();
            socket.once('close', () => resolve());
            socket.close();
            setTimeout(() => {
              socket.terminate();
              resolve();
            }, 5_000).unref();
          }),
      ),
    );
  }
}

function closeReason(event: unknown): string {
  if (event && typeof event === 'object' && 'code' in event) {
    const { code, reason } = event as { code: unknown; reason?: unknown };
    return `close ${String(code)}${reason ? ` ${String(reason)}` : ''}`;
  }
  if (Array.isArray(event)) return JSON.stringify(event.map((e: { message?: unknown }) => e?.message ?? e));
  return event instanceof Error ? event.message : String(event);
}

/** Polls `done` every 20 ms until it is true or `timeoutMs` passes; says which. */
export async function waitFor(done: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

/**
 * Publishes one event per stream key and waits until every receiver of that key has it; keys with
 * a receiver still missing it (its subscription was not active yet) get another, up to 30 rounds.
 * Returns the last warm-up seq per key: the measured window starts after it.
 */
export async function warmUp(receivers: readonly Receiver[], keys: number[], publish: (keys: number[]) => Promise<number[]>): Promise<number[]> {
  const warmSeq: number[] = [];
  let pending = keys;
  for (let round = 0; round < WARM_UP_ROUNDS && pending.length > 0; round++) {
    const seqs = await publish(pending);
    pending.forEach((key, i) => (warmSeq[key] = seqs[i]!));
    const reached = () => receivers.every((r) => r.auction < 0 || r.maxSeq >= (warmSeq[r.auction] ?? Infinity));
    await waitFor(reached, 2_000);
    pending = [...new Set(receivers.filter((r) => r.auction >= 0 && r.maxSeq < warmSeq[r.auction]!).map((r) => r.auction))];
  }
  if (pending.length > 0) {
    const missing = receivers.filter((r) => r.auction >= 0 && r.maxSeq < warmSeq[r.auction]!).length;
    throw new Error(`after ${WARM_UP_ROUNDS} warm-up rounds, ${fmt(missing)} subscribers on ${fmt(pending.length)} streams still received nothing`);
  }
  return warmSeq;
}

/** Waits until every receiver has its stream's last seq, or no receipt came for STALL_MS. */
export async function drain(receivers: readonly Receiver[], streams: ReadonlyMap<number, Stream>): Promise<void> {
  const last = new Map<number, number>();
  for (const [key, s] of streams) last.set(key, Math.max(s.afterSeq, ...s.answeredAt.keys()));
  const total = () => receivers.reduce((n, r) => n + r.seqs.length, 0);
  let seen = total();
  let progressAt = performance.now();
  for (;;) {
    if (receivers.every((r) => !streams.has(r.auction) || r.maxSeq >= last.get(r.auction)!)) return;
    await sleep(50);
    const now = total();
    if (now !== seen) {
      seen = now;
      progressAt = performance.now();
    } else if (performance.now() - progressAt > STALL_MS) {
      console.log(`   (drain: no event for ${STALL_MS / 1000} s while some subscribers miss the last seq; counting the rest as lost)`);
      return;
    }
  }
}
