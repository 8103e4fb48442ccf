// The bench's HTTP side of the public API: users, auctions and placeBid, as a real client calls them.
import { randomBytes, randomUUID } from 'node:crypto';
import { bidIncrement } from '../../src/domain/increments.js';
import { formatMoney } from '../../src/domain/money.js';

export interface GqlResult {
  data?: any;
  errors?: any[];
}

export async function gql(url: string, query: string, variables?: unknown, token?: string): Promise<GqlResult> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as GqlResult;
}

export async function signUp(url: string, label: string): Promise<{ token: string; id: string }> {
  const email = `${label}-${randomBytes(4).toString('hex')}@bench.example`;
  const { data, errors } = await gql(
    url,
    'mutation($input: SignUpInput!) { signUp(input: $input) { token user { id } } }',
    { input: { email, password: 'bench-password-123', displayName: label } },
  );
  if (errors) throw new Error(`signUp failed: ${JSON.stringify(errors)}`);
  return { token: data.signUp.token, id: data.signUp.user.id };
}

/** A week-long auction starting now at 1.00, so every bid is accepted at once. */
export async function createAuction(url: string, token: string, title: string): Promise<string> {
  const endsAt = new Date(Date.now() + 7 * 24 * 3600 * 1000).toISOString();
  const { data, errors } = await gql(
    url,
    'mutation($input: CreateAuctionInput!) { createAuction(input: $input) { id } }',
    { input: { title, description: 'fan-out benchmark', startingPrice: '1.00', endsAt } },
    token,
  );
  if (errors) throw new Error(`createAuction failed: ${JSON.stringify(errors)}`);
  return data.createAuction.id as string;
}

const PLACE_BID = 'mutation($input: PlaceBidInput!) { placeBid(input: $input) { bid { seq } } }';
const parseMoney = (s: string) => Math.round(Number(s) * 100);

export type BidAnswer =
  | { kind: 'accepted'; seq: number; next: number }
  | { kind: 'too_low'; next: number }
  | { kind: 'error'; message: string };

/** One placeBid; the answer says what the next acceptable amount is, as a real client learns it. */
export async function placeBid(url: string, token: string, auctionId: string, amount: number): Promise<BidAnswer> {
  const { data, errors } = await gql(url, PLACE_BID, { input: { auctionId, amount: formatMoney(amount), idempotencyKey: randomUUID() } }, token);
  if (data?.placeBid) return { kind: 'accepted', seq: data.placeBid.bid.seq as number, next: amount + bidIncrement(amount) };
  const error = errors?.[0];
  if (error?.extensions?.code === 'BID_TOO_LOW') return { kind: 'too_low', next: parseMoney(error.extensions.minimumNextBid) };
  return { kind: 'error', message: JSON.stringify(errors ?? data) };
}

/** Runs `fn` over `items` with at most `concurrency` calls in flight, keeping the results' order. */
export async function mapLimit<T, R>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await fn(items[i]!, i);
      }
    }),
  );
  return results;
}
