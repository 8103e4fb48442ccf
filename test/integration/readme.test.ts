import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, testTarget, type TestApp } from '../support/app.js';
import { ok } from '../support/client.js';
import { AuctionBidsDocument, MeDocument } from '../generated/graphql.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The walk-through: the bodies of README's code blocks fenced as ```sh walkthrough, in order. */
function walkthroughBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```sh walkthrough\n([\s\S]*?)^```$/gm)].map((match) => match[1]!);
}

// After the README's blocks: report the variables they set, and check the subscriber they started has
// really stopped (npm must pass the signal on to it).
const EPILOGUE = `
printf '@@ %s %s\\n' SELLER "$SELLER" ALICE "$ALICE" BOB "$BOB" AUCTION "$AUCTION"
for _ in $(seq 50); do kill -0 "$SUBSCRIBER" 2>/dev/null || exit 0; sleep 0.1; done
echo "the subscriber was still running 5 s after the walk-through stopped it" >&2
exit 1
`;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the script in one bash, as a terminal would, in its own process group so nothing it starts outlives it. */
async function runBash(script: string, env: Record<string, string>, timeoutMs: number): Promise<Run> {
  const child = spawn('bash', ['-s'], { cwd: ROOT, env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end(script);
  const killGroup = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // The group is gone already.
    }
  };
  const timer = setTimeout(() => {
    stderr += `\n(killed after ${timeoutMs} ms)`;
    killGroup();
  }, timeoutMs);
  try {
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    return { code, stdout, stderr };
  } finally {
    clearTimeout(timer);
    killGroup();
  }
}

type Answer = { data?: Record<string, any> | null; errors?: unknown[] };

describe.skipIf(testTarget() !== 'embedded')('the README walk-through (embedded target only: it documents the default start-up)', () => {
  let app: TestApp;
  let tmp: string;

  beforeAll(async () => {
    app = await startTestApp();
    tmp = await mkdtemp(path.join(tmpdir(), 'auction-readme-'));
  });

  afterAll(async () => {
    await app?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('runs as pasted: three users, a bid, an outbid heard over the WebSocket, and the bid history', async () => {
    const blocks = walkthroughBlocks(await readFile(path.join(ROOT, 'README.md'), 'utf8'));
    expect(blocks.length, 'README.md has no ```sh walkthrough blocks').toBeGreaterThan(0);

    // -e and pipefail stop at the first failing command, -x shows in the report which one it was.
    const script = ['set -euxo pipefail', ...blocks, EPILOGUE].join('\n');
    const env = {
      PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}`,
      HOME: process.env.HOME ?? tmp,
      TMPDIR: tmp,
      API: app.url,
    };
    const run = await runBash(script, env, 90_000);
    const report = `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`;
    expect(run.code, report).toBe(0);

    const lines = run.stdout.split('\n');
    const answers = lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Answer);
    expect(answers.filter((answer) => answer.errors), report).toEqual([]);
    const vars = Object.fromEntries(lines.filter((line) => line.startsWith('@@ ')).map((line) => line.slice(3).split(' ') as [string, string]));

    const [seller, alice, bob] = await Promise.all(
      [vars.SELLER, vars.ALICE, vars.BOB].map(async (token) => (await ok(app.url, MeDocument, undefined, token)).me!),
    );
    expect(new Set([seller!.id, alice!.id, bob!.id]).size, 'three different users').toBe(3);
    expect(answers.filter((answer) => answer.data?.signUp).map((answer) => answer.data!.signUp.user.id)).toEqual([seller!.id, alice!.id, bob!.id]);

    const history = (await ok(app.url, AuctionBidsDocument, { id: vars.AUCTION! }, vars.SELLER)).auction!;
    const [bobsBid, alicesBid] = history.bids.edges.map((edge) => edge.node);
    expect(history.bids.edges, 'the auction has exactly two bids').toHaveLength(2);
    expect(alicesBid).toMatchObject({ bidder: { id: alice!.id }, status: 'OUTBID' });
    expect(bobsBid).toMatchObject({ bidder: { id: bob!.id }, status: 'LEADING' });
    expect(Number(bobsBid!.amount)).toBeGreaterThan(Number(alicesBid!.amount));

    const placed = answers.filter((answer) => answer.data?.placeBid).map((answer) => answer.data!.placeBid.bid);
    expect(placed, "Alice's bid, then Bob's, both accepted").toMatchObject([
      { id: alicesBid!.id, status: 'LEADING' },
      { id: bobsBid!.id, status: 'LEADING' },
    ]);

    const notices = answers.filter((answer) => answer.data?.outbid).map((answer) => answer.data!.outbid);
    expect(notices, "Alice's subscription printed the outbid notice").toMatchObject([
      { auction: { id: vars.AUCTION }, yourBid: { amount: alicesBid!.amount }, currentPrice: bobsBid!.amount },
    ]);

    const shownHistory = answers.filter((answer) => answer.data?.auction?.bids).map((answer) => answer.data!.auction.bids.edges.map((edge: { node: { amount: string } }) => edge.node.amount));
    expect(shownHistory, 'the history query lists both bids, newest first').toEqual([[bobsBid!.amount, alicesBid!.amount]]);
  }, 120_000);
});
