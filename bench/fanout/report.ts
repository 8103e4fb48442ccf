// The fan-out bench's report: memory per connection, delivery per scenario, where the CPU went,
// and what the servers logged.
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import type { BidStream } from './bidding.js';
import { machineBusySeconds, type ServerProcess } from './processes.js';
import { fmt, mark, spread, type Delivery } from './stats.js';

export const TARGET_P99_MS = 500;
export const TARGET_KB_PER_SUBSCRIPTION = 30;


export type Memory = Array<{ rssKb: number; heapUsedKb?: number }>;

export async function memoryOf(servers: readonly ServerProcess[]): Promise<Memory> {
  return Promise.all(servers.map((s) => s.memory()));
}

/** Summed growth over the processes, per connection, in KB; heap undefined if any reading lacks it. */
function perConnection(before: Memory, after: Memory, n: number): { rss: number; heap?: number } {
  let rss = 0;
  let heap: number | undefined = 0;
  before.forEach((b, i) => {
    const a = after[i]!;
    rss += a.rssKb - b.rssKb;
    heap = heap !== undefined && a.heapUsedKb !== undefined && b.heapUsedKb !== undefined ? heap + a.heapUsedKb - b.heapUsedKb : undefined;
  });
  return { rss: rss / n, heap: heap === undefined ? undefined : heap / n };
}

export function printMemory(n: number, bare: { before: Memory; after: Memory }, app: { before: Memory; connected: Memory; subscribed: Memory }): void {
  const line = (label: string, d: { rss: number; heap?: number }, extra = '') =>
    console.log(`   ${label.padEnd(38)}: RSS ${fmt(d.rss, 1).padStart(6)} KB   V8 heap ${d.heap === undefined ? 'n/a' : `${fmt(d.heap, 1).padStart(6)} KB`}${extra}`);
  const total = perConnection(app.before, app.subscribed, n);
  const rssKb = (m: Memory) => m.map((x) => fmt(x.rssKb / 1024, 0)).join('+');
  console.log(`\n== gateway memory per idle subscriber (${fmt(n)} over ${app.before.length} processes, after a full GC, summed growth / ${fmt(n)})`);
  line('baseline: bare ws server, connection', perConnection(bare.before, bare.after, n));
  line('graphql-ws connection, no subscription', perConnection(app.before, app.connected, n));
  line('graphql-ws connection + subscription', total, `   [target < ${TARGET_KB_PER_SUBSCRIPTION} KB: ${mark(total.rss < TARGET_KB_PER_SUBSCRIPTION)}]`);
  line('  of which the subscription', perConnection(app.connected, app.subscribed, n));
  console.log(`   gateway RSS MB: ${rssKb(app.before)} before, ${rssKb(app.connected)} connected, ${rssKb(app.subscribed)} subscribed`);
}

export function printScenario(title: string, d: Delivery, bids: BidStream, cpu: string, problems: string[]): void {
  const p99 = d.latencies.length ? d.latencies[Math.min(d.latencies.length - 1, Math.floor(0.99 * d.latencies.length))]! : NaN;
  const clean = d.lost === 0 && d.duplicates === 0 && d.outOfOrder === 0 && d.unexpected === 0;
  console.log(`\n== ${title}`);
  console.log(`   bids             : ${fmt(bids.accepted)} accepted in ${fmt(bids.seconds, 1)} s (${fmt(bids.accepted / bids.seconds, 1)}/s), ${bids.tooLow} BID_TOO_LOW retried, ${bids.errors.length} errors`);
  if (bids.errors[0]) console.log(`   first bid error  : ${bids.errors[0].slice(0, 300)}`);
  console.log(`   delivery ms      : ${spread(d.latencies)}   [target p99 < ${TARGET_P99_MS} ms: ${mark(p99 < TARGET_P99_MS)}]   (placeBid answer -> receipt)`);
  console.log(`   baseline placeBid: round trip ms ${spread(bids.roundTrips)}`);
  console.log(`   delivered        : ${fmt(d.delivered)} of ${fmt(d.expected)} events to ${fmt(d.subscribers)} subscribers, ${fmt(d.delivered / d.seconds)} msgs/s over ${fmt(d.seconds, 1)} s`);
  console.log(
    `   exactly once     : lost ${fmt(d.lost)} (${fmt(d.subscribersMissingSome)} subscribers missing some), duplicated ${fmt(d.duplicates)}, ` +
      `out of order ${fmt(d.outOfOrder)}, unexpected ${fmt(d.unexpected)}   [target none: ${mark(clean)}]`,
  );
  if (d.beforeAnswer > 0) console.log(`   (${fmt(d.beforeAnswer)} receipts came before placeBid's answer: negative latencies, kept as measured)`);
  console.log(`   ${cpu}`);
  for (const p of problems) console.log(`   client problem   : ${p}`);
}

/**
 * Starts counting CPU time; the returned function says where it went: this process (the load
 * generator), each server, and the rest of the machine (Redis, Postgres, the Kafka mock, and
 * anything else running, which skews every figure).
 */
export async function cpuMeter(servers: readonly ServerProcess[]): Promise<() => Promise<string>> {
  const read = async () => ({ t: performance.now(), bench: process.cpuUsage(), servers: await Promise.all(servers.map((s) => s.cpuSeconds())), machine: await machineBusySeconds() });
  const start = await read();
  return async () => {
    const end = await read();
    const wall = (end.t - start.t) / 1000;
    const usage = process.cpuUsage(start.bench);
    const bench = (usage.user + usage.system) / 1e6;
    const each = servers.map((_server, i) => end.servers[i]! - start.servers[i]!);
    const rest = end.machine - start.machine - bench - each.reduce((a, b) => a + b, 0);
    const pct = (cpuSeconds: number) => `${fmt((100 * cpuSeconds) / wall)}%`;
    return (
      `CPU (% of one core over ${fmt(wall, 1)} s; ${availableParallelism()} cores = ${availableParallelism() * 100}%): bench ${pct(bench)}, ` +
      `${servers.map((s, i) => `${s.name} ${pct(each[i]!)}`).join(', ')}, rest of machine ${pct(rest)}`
    );
  };
}

export function checkAlive(servers: readonly ServerProcess[]): void {
  const dead = servers.filter((s) => !s.alive() && !s.name.startsWith('bare'));
  for (const s of dead) console.log(`   !! ${s.name} (pid ${s.pid}) is no longer running; log ${s.logFile}`);
}

/** Warnings and errors the servers logged, by message: the place to look when events go missing. */
export async function printLogSummary(servers: readonly ServerProcess[]): Promise<void> {
  console.log('\n== server logs (warn and above, by message)');
  for (const s of servers) {
    const byMessage = new Map<string, number>();
    for (const line of (await readFile(s.logFile, 'utf8').catch(() => '')).split('\n')) {
      let entry: { level?: number; msg?: string; err?: { message?: string } };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        continue;
      }
      if ((entry.level ?? 0) < 40) continue;
      const text = `${entry.level! >= 50 ? 'ERROR' : 'warn'} ${entry.msg ?? ''}${entry.err?.message ? `: ${entry.err.message}` : ''}`.slice(0, 160);
      byMessage.set(text, (byMessage.get(text) ?? 0) + 1);
    }
    const top = [...byMessage].sort((a, b) => b[1] - a[1]).slice(0, 4);
    console.log(`   ${s.name.padEnd(9)}: ${top.length === 0 ? 'none' : top.map(([text, n]) => `${n} x ${text}`).join('\n              ')}   (${s.logFile})`);
  }
}
