import { randomUUID } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { buildClientSchema, getIntrospectionQuery, type IntrospectionQuery } from 'graphql';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeApp, startTestApp, type TestApp } from '../support/app.js';
import { ok, raw } from '../support/client.js';
import { createAuction, inMinutes, signUpCast } from '../support/factories.js';
import { anyDocument, type FuzzContext, type FuzzDocument } from '../support/fuzz/documents.js';
import { contractErrorCodes, judgeErrors, judgeHttp, outcomeCodes, refused, type GraphQLAnswer } from '../support/fuzz/judge.js';
import { asciiJunk, chance, int, nastyString, pick, wildJson, type Draw } from '../support/fuzz/values.js';
import { WsSession } from '../support/fuzz/ws-session.js';
import { CancelAuctionDocument, PlaceBidDocument } from '../generated/graphql.js';

// Random documents, variables and strings, over HTTP and WebSocket, against a running server. Every
// answer must be GraphQL with contract codes only (no 5xx, no INTERNAL_SERVER_ERROR), a refused
// mutation must change nothing, and /healthz must keep answering within 100 ms.
//
// CI runs a fixed seed and count; `npm run fuzz` runs more. FUZZ_SEED and FUZZ_RUNS choose them,
// FUZZ_CASE=<n> replays one case of the seed, FUZZ_FIRST=<n> starts the run there (to narrow down a
// case that leaves the server broken for the ones after it), FUZZ_REPORT=1 prints the counts.

const SEED = Number(process.env.FUZZ_SEED ?? 20_261_202);
const RUNS = Number(process.env.FUZZ_RUNS ?? 1_200);
const FIRST = Number(process.env.FUZZ_FIRST ?? 0);
const ONLY = process.env.FUZZ_CASE === undefined ? undefined : Number(process.env.FUZZ_CASE);
const HEALTH_BUDGET_MS = 100;
/** WebSocket close codes that refuse a client's mistake; anything else (1006, 1011, 4500, ...) is the server's failure. */
const REFUSING_CLOSE_CODES = new Set([1000, 1009, 4400, 4401, 4403, 4406, 4408, 4409, 4429]);

type Case =
  | { transport: 'http'; method: 'GET' | 'POST'; body: string; contentType: string; authorization?: string; document: FuzzDocument }
  | { transport: 'ws'; signedIn: boolean; payload: unknown; document: FuzzDocument }
  | { transport: 'ws frame'; frame: string }
  | { transport: 'ws init'; init: unknown };

interface Finding {
  index: number;
  reason: string;
  size: number;
  reproduction: string;
}

const isMutation = (document: FuzzDocument) => document.root === 'mutation' || /\bmutation\b/.test(document.query);

describeApp('fuzzing the API', () => {
  let app: TestApp;
  let ctx: FuzzContext;
  let codes: Set<string>;
  let tokens: { valid: string[]; invalid: string[] };

  beforeAll(async () => {
    app = await startTestApp();
    codes = contractErrorCodes();
    const { seller, alice, bob } = await signUpCast(app.url);
    // Something to act on: a running auction with bids, a scheduled one, a cancelled one.
    const active = await createAuction(app.url, seller, { startingPrice: '10.00', buyNowPrice: '500.00' });
    const scheduled = await createAuction(app.url, seller, { startsAt: inMinutes(60), endsAt: inMinutes(120) });
    const cancelled = await createAuction(app.url, seller);
    await ok(app.url, CancelAuctionDocument, { id: cancelled.id }, seller.token);
    const bids = [];
    for (const [user, amount] of [[alice, '10.00'], [bob, '12.00']] as const) {
      bids.push((await ok(app.url, PlaceBidDocument, { input: { auctionId: active.id, amount, idempotencyKey: randomUUID() } }, user.token)).placeBid.bid.id);
    }
    const introspection = await raw(app.url, getIntrospectionQuery());
    ctx = {
      schema: buildClientSchema(introspection.data as IntrospectionQuery),
      known: [active.id, scheduled.id, cancelled.id, seller.id, alice.id, bob.id, ...bids],
    };
    const sign = (secret: string, sub: string, exp: number) =>
      new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setIssuer('auction-platform').setIssuedAt(exp - 900).setExpirationTime(exp).sign(new TextEncoder().encode(secret));
    const now = Math.floor(Date.now() / 1000);
    tokens = {
      valid: [alice.token, bob.token, seller.token].map((t) => `Bearer ${t}`),
      invalid: [
        `Bearer ${await sign(app.env.JWT_SECRET!, alice.id, now - 60)}`,
        `Bearer ${await sign('another-secret-that-is-long-enough-for-hs256', alice.id, now + 600)}`,
        `Bearer ${await sign(app.env.JWT_SECRET!, randomUUID(), now + 600)}`,
        `Bearer ${alice.token.slice(0, -3)}abc`,
        'Bearer',
        'Basic dXNlcjpwYXNz',
        `Bearer ${'a'.repeat(5_000)}`,
      ],
    };
  });
  afterAll(async () => {
    await app?.close();
  });

  const authorization = (g: Draw): string | undefined => {
    const roll = int(g, 0, 9);
    if (roll < 4) return undefined;
    if (roll < 8) return pick(g, tokens.valid);
    return chance(g, 0.6) ? pick(g, tokens.invalid) : `Bearer ${g(() => asciiJunk)}`;
  };

  function httpCase(g: Draw): Case {
    const document = anyDocument(g, ctx);
    let body: unknown = { query: document.query, variables: document.variables, operationName: document.operationName };
    // A plausible operation travels in a well-formed request, signed in, so that it reaches the resolvers.
    if (document.kind.startsWith('plausible')) {
      return { transport: 'http', method: 'POST', body: JSON.stringify(body), contentType: 'application/json', authorization: chance(g, 0.85) ? pick(g, tokens.valid) : undefined, document };
    }
    const envelope = int(g, 0, 99);
    if (envelope < 3) body = pick(g, ['', '{', 'null', '[]', '"{ serverTime }"', '{"query": "{ serverTime }"', 'query=%7B%7D', g(() => nastyString)]);
    else if (envelope < 5) body = [body, { query: '{ serverTime }' }];
    else if (envelope < 11) (body as Record<string, unknown>)[pick(g, ['query', 'variables', 'operationName', 'extensions'])] = wildJson(g);
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    const get = chance(g, 0.05) && text.length < 2_000 && typeof body === 'object' && body !== null && !Array.isArray(body);
    const contentType = chance(g, 0.95) ? 'application/json' : pick(g, ['application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'application/graphql', 'multipart/form-data']);
    return { transport: 'http', method: get ? 'GET' : 'POST', body: text, contentType, authorization: authorization(g), document };
  }

  function makeCase(g: Draw): Case {
    const roll = int(g, 0, 99);
    if (roll < 78) return httpCase(g);
    if (roll < 93) {
      const document = anyDocument(g, ctx, ['subscription', 'subscription', 'query', 'mutation']);
      const payload: Record<string, unknown> = { query: document.query, variables: document.variables, operationName: document.operationName };
      if (chance(g, 0.08)) payload[pick(g, ['query', 'variables', 'operationName', 'extensions'])] = wildJson(g);
      return { transport: 'ws', signedIn: chance(g, 0.5), payload, document };
    }
    if (roll < 97) {
      const frame = pick(g, [
        () => g(() => nastyString),
        () => JSON.stringify(wildJson(g)),
        () => JSON.stringify({ type: 'subscribe', id: wildJson(g), payload: { query: '{ serverTime }' } }),
        () => JSON.stringify({ type: 'subscribe', id: 'x', payload: wildJson(g) }),
        () => JSON.stringify({ type: pick(g, ['ping', 'pong', 'complete', 'connection_init', 'next', 'error', 'nope']), id: 'x', payload: wildJson(g) }),
      ])();
      return { transport: 'ws frame', frame };
    }
    const init = pick(g, [
      () => ({ authorization: chance(g, 0.5) ? (authorization(g) ?? null) : wildJson(g) }),
      () => wildJson(g),
      () => g(() => nastyString),
    ])();
    return { transport: 'ws init', init };
  }

  const caseAt = (index: number): Case => fc.sample(fc.gen().map((g) => makeCase(g)), { seed: SEED + index, numRuns: 1 })[0]!;

  /** What the server stores and the price book holds: a refused mutation must leave it as it was. */
  async function state(): Promise<string> {
    const [users, auctions] = await Promise.all([
      app.deps.db.user.findMany({ orderBy: { id: 'asc' }, select: { id: true, email: true, passwordHash: true, displayName: true, phone: true, smsOptIn: true } }),
      // Without the fields the bid worker writes, which earlier accepted bids may still be changing.
      app.deps.db.auction.findMany({
        orderBy: { id: 'asc' },
        select: { id: true, sellerId: true, title: true, description: true, currency: true, startingPrice: true, reservePrice: true, buyNowPrice: true, startsAt: true, state: true, cancelledAt: true, cancelReason: true, softCloseSeconds: true, winnerId: true },
      }),
    ]);
    const live = await app.deps.priceBook.peek(auctions.map((a) => a.id));
    return JSON.stringify({ users, auctions, live: [...live.entries()] });
  }

  /** How often each outcome came back (OK or an error code), to show what the cases reached. */
  const seen: Record<string, number> = {};
  const saw = (answer: GraphQLAnswer | undefined) => {
    for (const code of outcomeCodes(answer)) seen[code] = (seen[code] ?? 0) + 1;
  };

  /** Runs one case and says what, if anything, was wrong with the answer. */
  async function run(c: Case, sessions: Map<boolean, WsSession>): Promise<string[]> {
    if (c.transport === 'http') {
      const before = isMutation(c.document) ? await state() : undefined;
      const headers: Record<string, string> = { 'content-type': c.contentType, ...(c.authorization ? { authorization: c.authorization } : {}) };
      let url = app.url;
      if (c.method === 'GET') {
        const params = JSON.parse(c.body) as Record<string, unknown>;
        const query = Object.entries(params).flatMap(([k, v]): Array<[string, string]> => (v === undefined ? [] : [[k, typeof v === 'string' ? v : JSON.stringify(v)]]));
        url = `${app.url}?${new URLSearchParams(query)}`;
        headers['apollo-require-preflight'] = 'true';
      }
      let status: number;
      let text: string;
      try {
        const response = await fetch(url, { method: c.method, headers, body: c.method === 'GET' ? undefined : c.body, signal: AbortSignal.timeout(20_000) });
        [status, text] = [response.status, await response.text()];
      } catch (error) {
        return [`no answer over HTTP (${(error as Error).name})`];
      }
      const { verdicts, answer } = judgeHttp(status, text, codes);
      saw(answer);
      return [...verdicts, ...(await unchanged(before, answer))];
    }
    if (c.transport === 'ws') {
      let session = sessions.get(c.signedIn);
      if (!session || session.closed) {
        session = await WsSession.open(app.wsUrl, c.signedIn ? { authorization: tokens.valid[0] } : {});
        sessions.set(c.signedIn, session);
      }
      const before = isMutation(c.document) ? await state() : undefined;
      const id = randomUUID();
      session.send({ id, type: 'subscribe', payload: c.payload });
      const first = await session.next((m) => m.id === id, 150);
      if (first === 'closed') return REFUSING_CLOSE_CODES.has(session.closed!.code) ? [] : [`WebSocket closed with ${session.closed!.code} on a subscribe`];
      if (first === 'timeout' || first.type === 'next') session.send({ id, type: 'complete' });
      if (first === 'timeout' || first.type === 'complete') return [];
      const answer: GraphQLAnswer = first.type === 'error' ? { errors: first.payload as GraphQLAnswer['errors'] } : (first.payload as GraphQLAnswer);
      saw(answer);
      return [...judgeErrors(answer?.errors, codes), ...(await unchanged(before, answer))];
    }
    const session = await WsSession.open(app.wsUrl, c.transport === 'ws init' ? c.init : {});
    try {
      if (!session.acknowledged && !session.closed) return ['no answer to connection_init: neither acknowledged nor closed'];
      if (c.transport === 'ws frame' && !session.closed) {
        session.send(c.frame);
        const reply = await session.next((m) => m.type === 'error' || m.type === 'next', 150);
        if (typeof reply === 'object') return judgeErrors((reply.type === 'error' ? reply.payload : (reply.payload as GraphQLAnswer)?.errors) as GraphQLAnswer['errors'], codes);
      }
      const code = session.closed?.code;
      return code === undefined || REFUSING_CLOSE_CODES.has(code) ? [] : [`WebSocket closed with ${code} on ${c.transport === 'ws init' ? 'connection_init' : 'a raw frame'}`];
    } finally {
      session.close();
    }
  }

  async function unchanged(before: string | undefined, answer: GraphQLAnswer | undefined): Promise<string[]> {
    if (before === undefined || !refused(answer)) return [];
    return before === (await state()) ? [] : ['a refused mutation changed what the server holds'];
  }

  /** The longest /healthz answer while `work` runs, probing every 10 ms. */
  async function healthWhile(work: Promise<unknown>): Promise<number> {
    let done = false;
    const finished = () => (done = true);
    void work.then(finished, finished);
    let longest = 0;
    while (!done) {
      const started = performance.now();
      await fetch(new URL('/healthz', app.url)).then((r) => r.arrayBuffer(), () => undefined);
      longest = Math.max(longest, performance.now() - started);
      await sleep(10);
    }
    return longest;
  }

  it(
    `answers ${ONLY === undefined ? RUNS : 'one'} random documents, variables and strings over HTTP and WebSocket with contract errors only, changes nothing it refuses, and keeps /healthz within ${HEALTH_BUDGET_MS} ms`,
    async () => {
      const loop = monitorEventLoopDelay({ resolution: 10 });
      loop.enable();
      const sessions = new Map<boolean, WsSession>();
      const findings: Finding[] = [];
      const counts = { http: 0, ws: 0 };
      let maxStallMs = 0;
      let worstStall = { ms: 0, index: -1, kind: '' };
      // A background probe of /healthz, remembering which case was running when one was slow.
      let current = -1;
      let probing = true;
      const slow = new Map<number, number>();
      let maxHealthMs = 0;
      const prober = (async () => {
        while (probing) {
          const during = current;
          const started = performance.now();
          await fetch(new URL('/healthz', app.url)).then((r) => r.arrayBuffer(), () => undefined);
          const ms = performance.now() - started;
          maxHealthMs = Math.max(maxHealthMs, ms);
          if (ms > HEALTH_BUDGET_MS) for (const index of new Set([during, current])) slow.set(index, Math.max(ms, slow.get(index) ?? 0));
          await sleep(20);
        }
      })();

      const indices = ONLY === undefined ? Array.from({ length: RUNS }, (_, i) => FIRST + i) : [ONLY];
      const record = (index: number, c: Case, reason: string) => {
        const request = c.transport === 'http' ? { method: c.method, contentType: c.contentType, authorization: c.authorization?.slice(0, 40), body: c.body } : c;
        const reproduction = JSON.stringify(request);
        findings.push({ index, reason, size: reproduction.length, reproduction: reproduction.length > 600 ? `${reproduction.slice(0, 600)}… (${reproduction.length} chars)` : reproduction });
      };
      try {
        for (const index of indices) {
          const c = caseAt(index);
          current = index;
          loop.reset();
          if (c.transport === 'http') counts.http++;
          else counts.ws++;
          for (const reason of await run(c, sessions)) record(index, c, reason);
          const stall = loop.max / 1e6;
          maxStallMs = Math.max(maxStallMs, stall);
          if (stall > worstStall.ms) worstStall = { ms: Math.round(stall), index, kind: 'document' in c ? c.document.kind : c.transport };
        }
      } finally {
        current = -1;
        probing = false;
        await prober;
        loop.disable();
        for (const session of sessions.values()) session.close();
      }

      // A slow probe may be the machine's doing: a case is blamed only if it slows /healthz again alone.
      for (const index of [...slow.keys()].filter((i) => i >= 0).slice(0, 10)) {
        const c = caseAt(index);
        const replay = new Map<boolean, WsSession>();
        const ms = await healthWhile(run(c, replay));
        for (const session of replay.values()) session.close();
        if (ms > HEALTH_BUDGET_MS) record(index, c, `/healthz took over ${HEALTH_BUDGET_MS} ms while this case ran, twice`);
      }

      const byReason: Record<string, { count: number; smallest: string }> = {};
      for (const finding of [...findings].sort((a, b) => a.size - b.size)) {
        const entry = (byReason[finding.reason] ??= { count: 0, smallest: `FUZZ_SEED=${SEED} FUZZ_CASE=${finding.index}: ${finding.reproduction}` });
        entry.count++;
      }
      const summary = {
        target: app.target,
        seed: SEED,
        cases: counts.http + counts.ws,
        ...counts,
        wrong: new Set(findings.map((f) => f.index)).size,
        maxStallMs: Math.round(maxStallMs),
        worstStall,
        maxHealthzMs: Math.round(maxHealthMs),
        outcomes: seen,
        byReason,
      };
      if (process.env.FUZZ_REPORT === '1') process.stdout.write(`fuzz summary ${JSON.stringify(summary, null, 2)}\n`);

      expect(summary.cases).toBe(indices.length);
      expect(byReason).toEqual({});
    },
    Math.max(180_000, RUNS * 250),
  );
});
