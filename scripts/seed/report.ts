import { formatMoney } from '../../src/domain/money.js';
import type { SeedResult, SeededUser } from './seed-database.js';

// How many accounts of each role are listed by name; the rest follow the same pattern.
const LISTED_PER_ROLE = 3;

/** What the seed prints when done: what was written, the demo sign-ins and an example to paste. */
export function formatSeedReport(result: SeedResult, context: { graphqlUrl: string; elapsedMs: number }): string {
  const created = result.users.filter((u) => u.created).length;
  const lines = [
    `Seeded ${result.auctions} auctions (${result.auctionsWithBids} with bids, ${result.bids} bids) in ${(context.elapsedMs / 1000).toFixed(1)} s,`,
    `with ${result.users.length} demo users (${created} new, ${result.users.length - created} reused). Seed ${result.seed}: pass --seed ${result.seed} to get the same listings again.`,
    '',
    `Demo users (every one signs in with the password "${result.password}"):`,
    ...roleLines('sellers', result.users.filter((u) => u.role === 'seller')),
    ...roleLines('bidders', result.users.filter((u) => u.role === 'bidder')),
    '',
  ];
  const bidder = result.sample?.bidderEmail ?? result.users.find((u) => u.role === 'bidder')?.email;
  lines.push(
    `Start the server (npm start), open ${context.graphqlUrl} and sign in:`,
    '',
    `mutation { signIn(email: "${bidder}", password: "${result.password}") { token user { id displayName } } }`,
    '',
    'Put the token in the Authorization header as "Bearer <token>", then:',
    '',
  );
  const sample = result.sample;
  if (sample) {
    lines.push(
      `query { auction(id: "${sample.id}") { title currentPrice minimumNextBid lastSeq bids(first: 5) { edges { node { amount seq bidderAlias } } } } }`,
      '',
      `mutation { placeBid(input: { auctionId: "${sample.id}", amount: "${formatMoney(sample.minimumNextBid)}", idempotencyKey: "demo-bid-1" }) { bid { seq status } auction { currentPrice minimumNextBid lastSeq } } }`,
      '',
      `("${sample.title}" stood at ${formatMoney(sample.currentPrice)} after ${sample.lastSeq} bids; the next bid gets seq ${sample.lastSeq + 1}.)`,
    );
  } else {
    lines.push('query { auctions(filter: { status: ACTIVE }, orderBy: ENDING_SOON, first: 10) { edges { node { id title currentPrice minimumNextBid endsAt } } } }');
  }
  return `${lines.join('\n')}\n`;
}

function roleLines(name: string, users: SeededUser[]): string[] {
  if (users.length === 0) return [];
  const listed = users.slice(0, LISTED_PER_ROLE).map((u) => `${u.email} (${u.displayName})`);
  const more = users.length > LISTED_PER_ROLE ? [`... up to ${users.at(-1)!.email}`] : [];
  return [`  ${name}: ${[...listed, ...more].join(', ')}`];
}
