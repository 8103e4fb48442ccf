// The bid benchmark's report: one table of every scenario, the worker's figures, the open loop's
// schedule, and the ratios against their targets, all from the same run.
import type { Spread } from './protocol.js';

export interface WorkerFigures {
  /** Bids Postgres must hold once the worker has caught up: every accepted bid so far. */
  expected: number;
  persisted: number;
  /** Persisted during the scenario and its drain, per second of that time. */
  perSecond: number;
  /** The most persisted in any one second (from the 250 ms samples). */
  peakPerSecond: number;
  /** From the last answer to count(bids) reaching `expected`, or null when it did not within the limit. */
  drainMs: number | null;
}

/** A row whose clients send some of their bids with a maxAmount. */
export interface AutomaticFigures {
  /** The share of new bids sent with a maxAmount, and how far above the amount it goes at most. */
  share: number;
  maxAboveCents: number;
  /** Requests of the measured phase sent with a maxAmount. */
  requests: number;
  /** Accepted requests of the whole job, warm-up and tail included. */
  acceptedRequests: number;
  /**
   * Bids the server placed for the other bidder in the same job: the auctions' bid counts in the
   * price book grew by this much beyond the accepted requests. A request places at most one.
   */
  bids: number;
}

export interface ScenarioRow {
  key: string;
  label: string;
  requests: number;
  seconds: number;
  requestsPerSecond: number;
  acceptedPerSecond: number | null;
  latencyMs: Spread;
  tooLow: number;
  retries: number;
  errors: number;
  errorCodes: Record<string, number>;
  firstError?: string;
  /** CPU seconds of the server process during the measured phase; null where no server runs. */
  serverCpuSeconds: number | null;
  loadCpuSeconds: number;
  /** One-minute load average at the end of the measured phase. */
  loadAverage: number;
  /** Every core's busy time over the measured phase, as % of all cores. */
  machineBusyPercent: number;
  worker?: WorkerFigures;
  automatic?: AutomaticFigures;
  open?: { rate: number; achievedPerSecond: number; scheduled: number; sent: number; late: number; dropped: number; maxLagMs: number };
}

export interface Target {
  name: string;
  value: string;
  target: string;
  met: boolean | null;
}

const num = (n: number | null | undefined, digits = 0) =>
  n === null || n === undefined || !Number.isFinite(n) ? '-' : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function table(header: string[], rows: string[][], leftColumns = 1): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < leftColumns ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.map(line)].join('\n');
}

export function printReport(rows: ScenarioRow[], targets: Target[], notes: string[]): void {
  console.log('');
  console.log(
    table(
      ['scenario', 'req/s', 'accepted/s', 'p50 ms', 'p99 ms', 'max ms', 'errors', 'server CPU s', 'load CPU s', 'loadavg'],
      rows.map((r) => [
        r.label,
        num(r.requestsPerSecond),
        num(r.acceptedPerSecond),
        num(r.latencyMs.p50, 2),
        num(r.latencyMs.p99, 2),
        num(r.latencyMs.max, 1),
        num(r.errors),
        num(r.serverCpuSeconds, 1),
        num(r.loadCpuSeconds, 1),
        num(r.loadAverage, 2),
      ]),
    ),
  );

  const answered = rows.filter((r) => r.tooLow + r.retries > 0);
  if (answered.length > 0) {
    console.log('\nrefusals the clients act on (not errors): BID_TOO_LOW bids the minimum it names next; UNAVAILABLE is sent again with the same key');
    console.log(table(['scenario', 'requests', 'BID_TOO_LOW', 'UNAVAILABLE', 'machine busy %'], answered.map((r) => [r.label, num(r.requests), num(r.tooLow), num(r.retries), num(r.machineBusyPercent)])));
  }

  const withWorker = rows.filter((r) => r.worker);
  if (withWorker.length > 0) {
    console.log('\nworker (count(bids) every 250 ms, from the scenario start until it equals every bid accepted so far)');
    console.log(
      table(
        ['after', 'accepted so far', 'persisted', 'persisted/s', 'peak 1 s', 'drain'],
        withWorker.map((r) => {
          const w = r.worker!;
          return [r.label, num(w.expected), num(w.persisted), num(w.perSecond), num(w.peakPerSecond), w.drainMs === null ? 'not drained' : `${num(w.drainMs)} ms`];
        }),
      ),
    );
  }

  const automatic = rows.filter((r) => r.automatic);
  if (automatic.length > 0) {
    console.log('\nautomatic bids (sent: measured phase; accepted and automatic: the whole job, from the price book\'s bid counts)');
    console.log(
      table(
        ['scenario', 'requests', 'with maxAmount', 'maxAmount above amount', 'accepted requests', 'automatic bids', 'per accepted request'],
        automatic.map((r) => {
          const a = r.automatic!;
          return [r.label, num(r.requests), num(a.requests), `0.01 to ${num(a.maxAboveCents / 100, 2)}`, num(a.acceptedRequests), num(a.bids), `${num((100 * a.bids) / a.acceptedRequests, 1)}%`];
        }),
      ),
    );
  }

  const open = rows.filter((r) => r.open);
  if (open.length > 0) {
    console.log('\nopen loop (latency from each request\'s scheduled send time)');
    console.log(
      table(
        ['scenario', 'offered/s', 'achieved/s', 'scheduled', 'sent', 'late > 2 ms', 'dropped', 'max send lag ms'],
        open.map((r) => {
          const o = r.open!;
          return [r.label, num(o.rate), num(o.achievedPerSecond), num(o.scheduled), num(o.sent), num(o.late), num(o.dropped), num(o.maxLagMs, 1)];
        }),
      ),
    );
  }

  const failing = rows.filter((r) => r.errors > 0);
  for (const r of failing) console.log(`\n${r.label}: errors ${JSON.stringify(r.errorCodes)}; first: ${r.firstError ?? '-'}`);

  console.log('\ntargets (ratios from this run)');
  console.log(table(['', 'value', 'target', ''], targets.map((t) => [t.name, t.value, t.target, t.met === null ? 'n/a' : t.met ? 'met' : 'MISSED'])));
  for (const note of notes) console.log(note);
}

const ratio = (a: number | null | undefined, b: number | null | undefined) => (a == null || b == null || !Number.isFinite(a) || !Number.isFinite(b) || b === 0 ? NaN : a / b);

/** The ratios the benchmark exists for, each against its target. */
export function targetsOf(rows: Map<string, ScenarioRow>, rate: number): Target[] {
  const get = (key: string) => rows.get(key);
  const atLeast = (name: string, value: number, min: number): Target => ({ name, value: `${num(value, 2)}x`, target: `>= ${min}x`, met: Number.isFinite(value) ? value >= min : null });
  const ceiling = get('ceiling')?.requestsPerSecond;
  const hot = get('hot');
  const rowLock = get('row-lock');
  const engine = { priceBook: get('engine-price-book'), rowLock: get('engine-row-lock') };
  const openBids = get('open-bids');
  const openTrivial = get('open-trivial');
  const cold = get('cold');
  const million = get('1m');
  const warm = get('warm');
  const warmAuto = get('warm-auto');
  const drains = [...rows.values()].filter((r) => r.worker);
  const slowestDrain = drains.some((r) => r.worker!.drainMs === null) ? Infinity : Math.max(...drains.map((r) => r.worker!.drainMs!));
  const p99Ratio = ratio(million?.latencyMs.p99, cold?.latencyMs.p99);
  return [
    atLeast('hot placeBid req/s / ceiling req/s', ratio(hot?.requestsPerSecond, ceiling), 0.5),
    atLeast('10k warm placeBid req/s / ceiling req/s', ratio(warm?.requestsPerSecond, ceiling), 0.5),
    // The automatic rules may cost at most a fifth of the plain figure.
    atLeast(
      `10k warm ${warmAuto?.automatic ? `${num(100 * warmAuto.automatic.share)}% ` : ''}automatic req/s / 10k warm plain req/s (p99 ${num(warmAuto?.latencyMs.p99, 2)} / ${num(warm?.latencyMs.p99, 2)} ms)`,
      ratio(warmAuto?.requestsPerSecond, warm?.requestsPerSecond),
      0.8,
    ),
    atLeast('hot placeBid req/s / row-lock req/s', ratio(hot?.requestsPerSecond, rowLock?.requestsPerSecond), 1.5),
    atLeast('hot placeBid accepted/s / row-lock accepted/s', ratio(hot?.acceptedPerSecond, rowLock?.acceptedPerSecond), 1.5),
    atLeast('engine alone: price book decisions/s / row-lock decisions/s', ratio(engine.priceBook?.requestsPerSecond, engine.rowLock?.requestsPerSecond), 5),
    atLeast('engine alone: price book accepted/s / row-lock accepted/s', ratio(engine.priceBook?.acceptedPerSecond, engine.rowLock?.acceptedPerSecond), 5),
    {
      name: `open loop placeBid p99 at ${num(rate)}/s (trivial op beside it: ${num(openTrivial?.latencyMs.p99, 2)} ms)`,
      value: `${num(openBids?.latencyMs.p99, 2)} ms`,
      target: '< 25 ms',
      met: openBids && Number.isFinite(openBids.latencyMs.p99) ? openBids.latencyMs.p99 < 25 : null,
    },
    {
      name: `1M auctions p99 / 10k cold p99 (${num(million?.latencyMs.p99, 2)} / ${num(cold?.latencyMs.p99, 2)} ms)`,
      value: `${num(p99Ratio, 2)}x`,
      target: '<= 1.10x',
      met: Number.isFinite(p99Ratio) ? p99Ratio <= 1.1 : null,
    },
    {
      name: 'worker drain after each bid scenario (slowest)',
      value: drains.length === 0 ? '-' : Number.isFinite(slowestDrain) ? `${num(slowestDrain)} ms` : 'not drained',
      target: '< 2,000 ms',
      met: drains.length === 0 ? null : slowestDrain < 2000,
    },
  ];
}
