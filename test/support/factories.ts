import { randomUUID } from 'node:crypto';
import { ok } from './client.js';
import { CreateAuctionDocument, SignUpDocument, type CreateAuctionInput } from '../generated/graphql.js';

export interface TestUser {
  id: string;
  token: string;
  email: string;
  password: string;
}

/** A new user, signed up through the API. */
export async function signUpUser(url: string, overrides: { displayName?: string; phone?: string; smsOptIn?: boolean } = {}): Promise<TestUser> {
  const email = `user-${randomUUID()}@example.com`;
  const password = 'correct horse battery';
  const data = await ok(url, SignUpDocument, {
    input: { email, password, displayName: overrides.displayName ?? 'Jordan', phone: overrides.phone, smsOptIn: overrides.smsOptIn },
  });
  return { id: data.signUp.user.id, token: data.signUp.token, email, password };
}

export const inMinutes = (minutes: number, from = Date.now()): string => new Date(from + minutes * 60_000).toISOString();

/** A running auction, listed through the API. */
export async function createAuction(url: string, seller: TestUser, input: Partial<CreateAuctionInput> = {}) {
  const data = await ok(
    url,
    CreateAuctionDocument,
    { input: { title: 'Vintage camera', description: 'A 1970s rangefinder in working order.', startingPrice: '10.00', endsAt: inMinutes(60), ...input } },
    seller.token,
  );
  return data.createAuction;
}

/** The usual cast of a bidding test: a seller and two bidders, Alice and Bob. */
export async function signUpCast(url: string): Promise<{ seller: TestUser; alice: TestUser; bob: TestUser }> {
  const [seller, alice, bob] = await Promise.all(['Seller', 'Alice', 'Bob'].map((displayName) => signUpUser(url, { displayName })));
  return { seller: seller!, alice: alice!, bob: bob! };
}
