// Turning receipts into the fan-out figures: latency from the publisher's answer to each receipt,
// throughput, and the exactly-once, in-order check.
import type { Receiver } from './subscribers.js';

/** One stream's measured events: seq -> when the publisher's answer came back (placeBid, SPUBLISH). */
export interface Stream {
  answeredAt: Map<number, number>;
  /** Seqs up to this one are warm-up and ignored. */
  afterSeq: number;
}

export interface Delivery {
  subscribers: number;
  expected: number;
  delivered: number;
  lost: number;
  duplicates: number;
  outOfOrder: number;
  /** Events in the measured window that no answered publish accounts for. */
  unexpected: number;
  subscribersMissingSome: number;
  /** Receipts that came before placeBid's answer did (the answer is delayed when the gateway is busy). */
  beforeAnswer: number;
  /** Sorted, ms. */
  latencies: Float64Array;
  /** From the first publish being sent to the last receipt. */
  seconds: number;
}

/** Checks every receiver against its stream and collects the latencies of first receipts. */
export function analyse(receivers: readonly Receiver[], streams: ReadonlyMap<number, Stream>, firstSentAt: number): Delivery {
  let expected = 0;
  for (const r of receivers) expected += streams.get(r.auction)?.answeredAt.size ?? 0;
  const latencies = new Float64Array(expected);
  const d = { subscribers: receivers.length, expected, delivered: 0, lost: 0, duplicates: 0, outOfOrder: 0, unexpected: 0, subscribersMissingSome: 0, beforeAnswer: 0 };
  let lastReceipt = firstSentAt;
  for (const r of receivers) {
    const stream = streams.get(r.auction);
    if (!stream) continue;
    const seen = new Set<number>();
    let previous = -Infinity;
    for (let k = 0; k < r.seqs.length; k++) {
      const seq = r.seqs[k]!;
      if (seq <= stream.afterSeq) continue;
      const answeredAt = stream.answeredAt.get(seq);
      if (answeredAt === undefined) {
        d.unexpected++;
        continue;
      }
      if (seen.has(seq)) {
        d.duplicates++;
        continue;
      }
      if (seq < previous) d.outOfOrder++;
      previous = Math.max(previous, seq);
      seen.add(seq);
      const t = r.times[k]!;
      if (t < answeredAt) d.beforeAnswer++;
      latencies[d.delivered++] = t - answeredAt;
      if (t > lastReceipt) lastReceipt = t;
    }
    const missing = stream.answeredAt.size - seen.size;
    d.lost += missing;
    if (missing > 0) d.subscribersMissingSome++;
  }
  const delivered = latencies.subarray(0, d.delivered).sort();
  return { ...d, latencies: delivered, seconds: (lastReceipt - firstSentAt) / 1000 };
}

export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export const fmt = (n: number, digits = 0) =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : String(n);

export const mark = (ok: boolean) => (ok ? 'ok' : 'MISSED');

/** "p50 1.23  p95 4.56  p99 7.89  max 12.34" in ms. */
export function spread(sorted: ArrayLike<number>, digits = 1): string {
  const max = sorted.length ? sorted[sorted.length - 1]! : NaN;
  return `p50 ${fmt(percentile(sorted, 50), digits)}  p95 ${fmt(percentile(sorted, 95), digits)}  p99 ${fmt(percentile(sorted, 99), digits)}  max ${fmt(max, digits)}`;
}
