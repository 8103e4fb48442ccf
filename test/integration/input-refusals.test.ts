import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import {
  buildSchema,
  getNamedType,
  isCompositeType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isScalarType,
  type GraphQLField,
  type GraphQLInputType,
} from 'graphql';
import { describeApp, startTestApp, type TestApp } from '../support/app.js';
import { ok } from '../support/client.js';
import { createAuction, inMinutes, signUpCast, type TestUser } from '../support/factories.js';
import { AuctionBidsDocument, AuctionEventsDocument, ListAuctionsDocument, MeDocument, PlaceBidDocument } from '../generated/graphql.js';
import { connect, subscribe } from '../support/ws-client.js';
import { printGraphSchema } from '../../src/http/print-schema.js';

// Fixed seeds and bounded runs: every run sends the same requests, and a failure names its input.
const SEED = 4_242;
const runs = (numRuns: number) => ({ seed: SEED, numRuns });

const GRAPHQL_RESPONSE_JSON = 'application/graphql-response+json';
const MONEY = /^(0|[1-9]\d{0,9})\.\d{2}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface Answer {
  status: number;
  contentType: string;
  text: string;
  body: any;
}

async function post(url: string, body: string | Uint8Array, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', text, body: parsed };
}

const send = (url: string, query: string, variables?: Record<string, unknown>, options: { token?: string; accept?: string } = {}) =>
  post(url, JSON.stringify({ query, variables }), {
    ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    ...(options.accept ? { accept: options.accept } : {}),
  });

/** Every answer to a client's mistake: JSON, errors with a message and a code, nothing internal. */
function expectGraphQLShaped(answer: Answer): void {
  expect(answer.status, answer.text).toBeLessThan(500);
  expect(answer.contentType).toMatch(/^application\/(graphql-response\+)?json/);
  expect(answer.text).not.toMatch(/<html|\n\s+at |node_modules/i);
  expect(answer.body, answer.text).toEqual(expect.objectContaining({ errors: expect.any(Array) }));
  expect(answer.body.errors.length).toBeGreaterThan(0);
  for (const error of answer.body.errors) {
    expect(typeof error.message).toBe('string');
    expect(error.extensions?.code, answer.text).not.toBe('INTERNAL_SERVER_ERROR');
    expect(error.extensions).not.toHaveProperty('stacktrace');
  }
}

/** A request error: refused before anything ran, 400, no data, BAD_USER_INPUT naming the field. */
function expectRefused(answer: Answer, field: string, context = ''): void {
  expect(answer.body?.errors?.[0]?.extensions, `${context} ${answer.text}`).toMatchObject({ code: 'BAD_USER_INPUT', field });
  expectGraphQLShaped(answer);
  expect(answer.status, answer.text).toBe(400);
  expect(answer.body).not.toHaveProperty('data');
}

/** A refusal of the body itself, before GraphQL: the given status, in GraphQL's error shape. */
function expectBodyRefused(answer: Answer, status: number, reason: string): void {
  expectGraphQLShaped(answer);
  expect(answer.status, answer.text).toBe(status);
  expect(answer.body).toEqual({ errors: [{ message: expect.any(String), extensions: { code: 'BAD_USER_INPUT', reason } }] });
}

// Bad values, by the type they fail to be. Nulls are left out: null is a valid value of a nullable
// field, and so are NaN and Infinity, which JSON sends as null.
const double = fc.double({ noNaN: true, noDefaultInfinity: true });
const notMoney = fc.oneof(
  fc.string().filter((text) => !MONEY.test(text)),
  fc.constantFrom('12.345', '1e3', '-1.00', '12.5', '01.00', ' 1.00', '1.00 ', '99999999999.00', '１.００', 'NaN'),
  double,
  fc.integer(),
  fc.boolean(),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string(), fc.integer(), { maxKeys: 2 }),
);

const pad = (value: number, width = 2) => String(value).padStart(width, '0');
// Date's own rollover tells a real calendar time from one that is not.
const existsInCalendar = ([year, month, day, hour, minute, second]: number[]) => {
  const date = new Date(Date.UTC(2000, 0, 1));
  date.setUTCFullYear(year!, month! - 1, day);
  date.setUTCHours(hour!, minute!, second!);
  return date.getUTCMonth() === month! - 1 && date.getUTCDate() === day && date.getUTCHours() === hour && date.getUTCMinutes() === minute && date.getUTCSeconds() === second;
};
const impossibleDate = fc
  .tuple(fc.integer({ min: 2000, max: 2100 }), fc.integer({ min: 0, max: 19 }), fc.integer({ min: 0, max: 39 }), fc.integer({ min: 0, max: 29 }), fc.integer({ min: 0, max: 69 }), fc.integer({ min: 0, max: 69 }))
  .filter((parts) => !existsInCalendar(parts))
  .map(([year, month, day, hour, minute, second]) => `${pad(year, 4)}-${pad(month)}-${pad(day)}T${pad(hour)}:${pad(minute)}:${pad(second)}.000Z`);
const notDateTime = fc.oneof(
  impossibleDate,
  fc.constantFrom('2027-02-29T00:00:00Z', '2026-13-01T00:00:00Z', '2026-06-01T24:00:00Z', '2026-06-01', '2026-06-01T10:00:00', 'tomorrow', ''),
  fc.string().filter((text) => !/^\d{4}-/.test(text)),
  fc.integer(),
  fc.boolean(),
);
const notInt = fc.oneof(fc.string(), double.filter((n) => !Number.isInteger(n)), fc.constantFrom(2 ** 31, -(2 ** 31) - 1, 1e100), fc.boolean(), fc.array(fc.integer(), { minLength: 2, maxLength: 3 }));
const notBoolean = fc.oneof(fc.string(), fc.integer(), double, fc.dictionary(fc.string(), fc.integer(), { maxKeys: 2 }));
const notString = fc.oneof(fc.integer(), double, fc.boolean(), fc.array(fc.string(), { minLength: 2, maxLength: 3 }), fc.dictionary(fc.string(), fc.string(), { maxKeys: 2 }));
const notId = fc.oneof(double.filter((n) => !Number.isInteger(n)), fc.boolean(), fc.array(fc.string(), { minLength: 2, maxLength: 3 }), fc.dictionary(fc.string(), fc.string(), { maxKeys: 2 }));
const notEnumOf = (...values: string[]) => fc.oneof(fc.string().filter((text) => !values.includes(text)), fc.integer(), fc.boolean());
const unknownFieldOf = (...known: string[]) => fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,15}$/).filter((name) => !known.includes(name));
// Text Postgres cannot store as sent, anywhere in an otherwise ordinary string.
const unstorable = fc
  .tuple(fc.string({ maxLength: 20 }), fc.constantFrom('\u0000', '\uD800', '\uDBFF', '\uDC00', '\uDFFF'), fc.string({ maxLength: 20 }))
  .map(([before, bad, after]) => `${before}${bad}${after}`);

const base64url = (text: string) => Buffer.from(text, 'utf8').toString('base64url');
const INT_MAX = 2 ** 31 - 1;
const isKeysetInt = (value: unknown) => Number.isInteger(value) && (value as number) >= 0 && (value as number) <= INT_MAX;
const isInstant = (value: unknown) => typeof value === 'string' && /^\d{4}-/.test(value) && !Number.isNaN(Date.parse(value)) && new Date(value).toISOString() === value;
/** What a cursor of this server holds, written out here so that the generators below can never produce one. */
function isGenuineCursor(cursor: string): boolean {
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) return false;
  let values: unknown;
  try {
    values = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return false;
  }
  if (!Array.isArray(values)) return false;
  const [kind, value, id] = values as unknown[];
  if (kind === 'bids') return values.length === 2 && isKeysetInt(value);
  const keyOk = kind === 'PRICE_LOW_TO_HIGH' || kind === 'PRICE_HIGH_TO_LOW' ? isKeysetInt(value) : kind === 'ENDING_SOON' || kind === 'NEWLY_LISTED' ? isInstant(value) : false;
  return values.length === 3 && keyOk && typeof id === 'string' && UUID.test(id);
}
const ID = '7b0c3e52-52f4-4a36-9d6b-0c7f4a1e2d33';
const garbledCursor = fc
  .oneof(
    fc.string(),
    fc.base64String().map((text) => text.replace(/=+$/, '')),
    fc.json().map(base64url),
    fc.tuple(fc.constantFrom('bids', 'ENDING_SOON', 'NEWLY_LISTED', 'PRICE_LOW_TO_HIGH', 'PRICE_HIGH_TO_LOW'), fc.array(fc.jsonValue(), { maxLength: 3 })).map(([kind, values]) =>
      base64url(JSON.stringify([kind, ...values])),
    ),
    fc.constantFrom(
      base64url('["bids",1e300]'),
      base64url('["bids",-1]'),
      base64url(`["bids",${INT_MAX + 1}]`),
      base64url('["bids",1.5]'),
      base64url(`["ENDING_SOON","2026-02-30T00:00:00.000Z","${ID}"]`),
      base64url(`["ENDING_SOON","-271821-04-20T00:00:00.000Z","${ID}"]`),
      base64url('["ENDING_SOON","2026-01-01T00:00:00.000Z","not-a-uuid"]'),
      base64url(`["PRICE_LOW_TO_HIGH",100,"${ID.slice(0, -1)}\\u0000"]`),
      base64url(`["PRICE_LOW_TO_HIGH","100","${ID}"]`),
      `${base64url(`["bids",1]`)}\u0000`,
      'abc\u0000def',
      'A'.repeat(5_000),
    ),
  )
  // The empty string is read as no cursor at all: the first page, as a client that keeps "" for none expects.
  .filter((cursor) => cursor !== '' && !isGenuineCursor(cursor));

describeApp('refusing input the server cannot take', () => {
  let app: TestApp;
  let seller: TestUser;
  let alice: TestUser;
  let bob: TestUser;
  let auctionId: string;

  beforeAll(async () => {
    app = await startTestApp();
    ({ seller, alice, bob } = await signUpCast(app.url));
    auctionId = (await createAuction(app.url, seller, { title: 'Brass lamp', startingPrice: '10.00' })).id;
    await createAuction(app.url, seller, { title: 'Oak chair', startingPrice: '30.00' });
    await ok(app.url, PlaceBidDocument, { input: { auctionId, amount: '10.00', idempotencyKey: 'alice-1' } }, alice.token);
    await ok(app.url, PlaceBidDocument, { input: { auctionId, amount: '11.00', idempotencyKey: 'bob-1' } }, bob.token);
    // Bids are persisted by the worker after the answer; the history must hold both before cursors are read from it.
    await vi.waitFor(async () => expect((await ok(app.url, AuctionBidsDocument, { id: auctionId })).auction?.bids.edges).toHaveLength(2), { timeout: 20_000, interval: 100 });
  });
  afterAll(async () => {
    await app?.close();
  });

  /** What a refused mutation must leave as it was: the auctions, the bid history, the seller's profile. */
  const snapshot = async () => ({
    auctions: (await ok(app.url, ListAuctionsDocument, { first: 100 })).auctions.edges.map((edge) => edge.node),
    bids: await ok(app.url, AuctionBidsDocument, { id: auctionId, first: 100 }),
    me: (await ok(app.url, MeDocument, undefined, seller.token)).me,
  });

  const placeBidDocument = 'mutation ($input: PlaceBidInput!) { placeBid(input: $input) { bid { id } } }';
  const createAuctionDocument = 'mutation ($input: CreateAuctionInput!) { createAuction(input: $input) { id } }';
  const auctionsDocument = 'query ($filter: AuctionFilter, $orderBy: AuctionOrder, $first: Int, $after: String) { auctions(filter: $filter, orderBy: $orderBy, first: $first, after: $after) { edges { cursor } } }';
  const bid = (overrides: Record<string, unknown> = {}) => ({ auctionId, amount: '50.00', idempotencyKey: `k-${randomUUID()}`, ...overrides });
  const listing = (overrides: Record<string, unknown> = {}) => ({ title: 'Lamp', description: 'Brass', startingPrice: '5.00', endsAt: inMinutes(120), ...overrides });

  describe('variables that do not coerce', () => {
    // Each case: a document, the variables around one bad value, the field the refusal must name, and who sends it.
    const cases: Array<[string, fc.Arbitrary<unknown>, (bad: unknown) => { query: string; variables: Record<string, unknown>; token?: () => string }, string]> = [
      ['a Money input field', notMoney, (bad) => ({ query: placeBidDocument, variables: { input: bid({ amount: bad }) }, token: () => bob.token }), 'amount'],
      ['a Money variable', notMoney, (bad) => ({ query: `mutation ($amount: Money!) { placeBid(input: { auctionId: "${auctionId}", amount: $amount, idempotencyKey: "k" }) { bid { id } } }`, variables: { amount: bad }, token: () => bob.token }), 'amount'],
      ['a Money filter', notMoney, (bad) => ({ query: auctionsDocument, variables: { filter: { minPrice: bad } } }), 'minPrice'],
      ['a DateTime input field', notDateTime, (bad) => ({ query: createAuctionDocument, variables: { input: listing({ endsAt: bad }) }, token: () => seller.token }), 'endsAt'],
      ['an optional DateTime input field', notDateTime, (bad) => ({ query: createAuctionDocument, variables: { input: listing({ startsAt: bad }) }, token: () => seller.token }), 'startsAt'],
      ['a DateTime filter', notDateTime, (bad) => ({ query: auctionsDocument, variables: { filter: { endingBefore: bad } } }), 'endingBefore'],
      ['an Int argument', notInt, (bad) => ({ query: auctionsDocument, variables: { first: bad } }), 'first'],
      ['an Int input field', notInt, (bad) => ({ query: createAuctionDocument, variables: { input: listing({ softCloseSeconds: bad }) }, token: () => seller.token }), 'softCloseSeconds'],
      ['a Boolean input field', notBoolean, (bad) => ({ query: 'mutation ($input: UpdateMeInput!) { updateMe(input: $input) { id } }', variables: { input: { smsOptIn: bad } }, token: () => seller.token }), 'smsOptIn'],
      ['a String input field', notString, (bad) => ({ query: createAuctionDocument, variables: { input: listing({ title: bad }) }, token: () => seller.token }), 'title'],
      ['a String argument', notString, (bad) => ({ query: 'mutation ($id: ID!, $reason: String) { cancelAuction(id: $id, reason: $reason) { id } }', variables: { id: auctionId, reason: bad }, token: () => seller.token }), 'reason'],
      ['an ID argument', notId, (bad) => ({ query: 'query ($id: ID!) { auction(id: $id) { id } }', variables: { id: bad } }), 'id'],
      ['an enum filter', notEnumOf('SCHEDULED', 'ACTIVE', 'ENDED', 'CANCELLED'), (bad) => ({ query: auctionsDocument, variables: { filter: { status: bad } } }), 'status'],
      ['an enum argument', notEnumOf('ENDING_SOON', 'NEWLY_LISTED', 'PRICE_LOW_TO_HIGH', 'PRICE_HIGH_TO_LOW'), (bad) => ({ query: auctionsDocument, variables: { orderBy: bad } }), 'orderBy'],
    ];

    it.each(cases)('refuses a bad value of %s with BAD_USER_INPUT naming it, and changes nothing', async (_name, arbitrary, request, field) => {
      const before = await snapshot();
      await fc.assert(
        fc.asyncProperty(arbitrary, async (bad) => {
          const { query, variables, token } = request(bad);
          expectRefused(await send(app.url, query, variables, { token: token?.() }), field);
        }),
        runs(25),
      );
      expect(await snapshot()).toEqual(before);
    });

    it('refuses an input field the type does not have, naming that field', async () => {
      await fc.assert(
        fc.asyncProperty(unknownFieldOf('auctionId', 'amount', 'maxAmount', 'idempotencyKey'), async (name) => {
          expectRefused(await send(app.url, placeBidDocument, { input: { ...bid(), [name]: 1 } }, { token: bob.token }), name);
        }),
        runs(20),
      );
    });

    it.each([
      ['null for a non-null variable', { input: null }, 'input'],
      ['a missing non-null variable', {}, 'input'],
      ['null for a non-null input field', { input: { ...listing(), title: null } }, 'title'],
      ['a missing non-null input field', { input: { title: 'Lamp', description: 'Brass', startingPrice: '5.00' } }, 'endsAt'],
    ])('refuses %s, naming it', async (_name, variables, field) => {
      const before = await snapshot();
      expectRefused(await send(app.url, createAuctionDocument, variables, { token: seller.token }), field);
      expect(await snapshot()).toEqual(before);
    });
  });

  describe('invalid literals written in the document', () => {
    const literal = (value: unknown) => (typeof value === 'string' ? JSON.stringify(value) : String(value));

    it('refuses a bad Money literal, naming the input field it was written for', async () => {
      const before = await snapshot();
      const moneyLiteral = fc.oneof(fc.string().filter((text) => !MONEY.test(text)), fc.constantFrom('12.345', 'abc', '1e3', '-1.00'), double, fc.integer());
      await fc.assert(
        fc.asyncProperty(moneyLiteral, async (bad) => {
          const query = `mutation { placeBid(input: { auctionId: "${auctionId}", amount: ${literal(bad)}, idempotencyKey: "k" }) { bid { id } } }`;
          expectRefused(await send(app.url, query, undefined, { token: bob.token }), 'amount');
          expectRefused(await send(app.url, `{ auctions(filter: { status: ACTIVE, maxPrice: ${literal(bad)} }) { edges { cursor } } }`), 'maxPrice');
        }),
        runs(25),
      );
      expect(await snapshot()).toEqual(before);
    });

    it('refuses a date that is not in the calendar, naming the input field it was written for', async () => {
      const before = await snapshot();
      await fc.assert(
        fc.asyncProperty(impossibleDate, async (bad) => {
          const query = `mutation { createAuction(input: { title: "Lamp", description: "Brass", startingPrice: "5.00", endsAt: "${bad}" }) { id } }`;
          expectRefused(await send(app.url, query, undefined, { token: seller.token }), 'endsAt');
          expectRefused(await send(app.url, `{ auctions(filter: { endingBefore: "${bad}" }) { edges { cursor } } }`), 'endingBefore');
        }),
        runs(25),
      );
      expect(await snapshot()).toEqual(before);
    });

    it.each([
      ['an unknown enum value', '{ auctions(filter: { status: SOLD }) { edges { cursor } } }', 'status'],
      ['an unknown input field', '{ auctions(filter: { colour: "red" }) { edges { cursor } } }', 'colour'],
      ['an unknown argument', '{ auction(id: "x", colour: "red") { id } }', 'colour'],
      ['null for a non-null argument', '{ auction(id: null) { id } }', 'id'],
      ['a string for an Int', '{ auctions(first: "ten") { edges { cursor } } }', 'first'],
      ['a missing non-null input field', 'mutation { signUp(input: { email: "a@example.com", password: "correct horse battery" }) { token } }', 'displayName'],
      ['a missing non-null argument', 'mutation { signIn(email: "a@example.com") { token } }', 'password'],
    ])('refuses %s, naming it', async (_name, query, field) => {
      expectRefused(await send(app.url, query), field);
    });
  });

  describe('strings that cannot be stored or are too long, in every argument of every query and mutation', () => {
    interface Position {
      operation: 'query' | 'mutation';
      field: GraphQLField<unknown, unknown>;
      path: string[];
    }

    // The schema the server serves, so a field added later is covered without touching this test.
    const positionsOf = async (): Promise<Position[]> => {
      const schema = buildSchema(await printGraphSchema());
      const positions: Position[] = [];
      const walk = (operation: Position['operation'], field: Position['field'], type: GraphQLInputType, path: string[], seen: string[]) => {
        const named = getNamedType(type);
        if (isInputObjectType(named)) {
          if (seen.includes(named.name)) return;
          for (const inner of Object.values(named.getFields())) walk(operation, field, inner.type, [...path, inner.name], [...seen, named.name]);
        } else if (isScalarType(named) && (named.name === 'String' || named.name === 'ID')) {
          positions.push({ operation, field, path });
        }
      };
      for (const [operation, root] of [['query', schema.getQueryType()], ['mutation', schema.getMutationType()]] as const) {
        for (const field of Object.values(root?.getFields() ?? {})) {
          for (const argument of field.args) walk(operation, field, argument.type, [argument.name], []);
        }
      }
      return positions;
    };

    const sweepEmail = `sweep-${randomUUID()}@example.com`;
    // Values that would be accepted, so that only the bad string at the position can be the reason for a refusal.
    const realistic = (name: string): string => {
      const values: Record<string, string> = {
        id: auctionId,
        auctionId,
        sellerId: seller.id,
        email: sweepEmail,
        password: 'correct horse battery',
        displayName: 'Jordan',
        phone: '+14155550123',
        title: 'Lamp',
        description: 'Brass',
        currency: 'USD',
        idempotencyKey: `sweep-${randomUUID()}`,
        reason: 'Withdrawn',
        query: 'lamp',
      };
      return values[name] ?? 'text';
    };
    const placeholder = (type: GraphQLInputType, name: string): unknown => {
      if (isNonNullType(type)) return placeholder(type.ofType, name);
      if (isListType(type)) return [];
      if (isInputObjectType(type)) {
        const required = Object.values(type.getFields()).filter((inner) => isNonNullType(inner.type) && inner.defaultValue === undefined);
        return Object.fromEntries(required.map((inner) => [inner.name, placeholder(inner.type, inner.name)]));
      }
      if (isEnumType(type)) return type.getValues()[0]!.name;
      const byScalar: Record<string, unknown> = { Money: '500.00', DateTime: inMinutes(120), Int: 1, Float: 1, Boolean: false };
      return byScalar[type.name] ?? realistic(name);
    };
    const printLiteral = (value: unknown, type: GraphQLInputType): string => {
      if (isNonNullType(type)) return printLiteral(value, type.ofType);
      if (isListType(type)) return `[${(value as unknown[]).map((item) => printLiteral(item, type.ofType)).join(', ')}]`;
      if (isInputObjectType(type)) {
        const fields = type.getFields();
        return `{ ${Object.entries(value as Record<string, unknown>).map(([key, inner]) => `${key}: ${printLiteral(inner, fields[key]!.type)}`).join(', ')} }`;
      }
      if (isEnumType(type)) return String(value);
      // JSON's string escapes are GraphQL's: NUL is written \u0000.
      return typeof value === 'string' ? JSON.stringify(value) : String(value);
    };

    /** The operation with `bad` at the position, and valid values everywhere else, as variables or written inline. */
    const operationWith = ({ operation, field, path }: Position, bad: string, inline: boolean) => {
      const [argumentName, ...inner] = path as [string, ...string[]];
      const args = field.args.filter((argument) => argument.name === argumentName || (isNonNullType(argument.type) && argument.defaultValue === undefined));
      const values = Object.fromEntries(args.map((argument) => [argument.name, placeholder(argument.type, argument.name)]));
      if (inner.length === 0) values[argumentName] = bad;
      else {
        let target = values[argumentName] as Record<string, unknown>;
        for (const key of inner.slice(0, -1)) target = (target[key] ??= {}) as Record<string, unknown>;
        target[inner.at(-1)!] = bad;
      }
      const selection = isCompositeType(getNamedType(field.type)) ? ' { __typename }' : '';
      if (inline) {
        const written = args.map((argument) => `${argument.name}: ${printLiteral(values[argument.name], argument.type)}`).join(', ');
        return { query: `${operation} { ${field.name}(${written})${selection} }`, variables: undefined };
      }
      const definitions = args.map((argument) => `$${argument.name}: ${String(argument.type)}`).join(', ');
      const passed = args.map((argument) => `${argument.name}: $${argument.name}`).join(', ');
      return { query: `${operation} (${definitions}) { ${field.name}(${passed})${selection} }`, variables: values };
    };
    // Bids and purchases come from a bidder; everything else from the seller, who owns the auction.
    const tokenFor = (position: Position) => (['placeBid', 'buyNow'].includes(position.field.name) ? bob.token : seller.token);
    const describePosition = ({ field, path }: Position) => `${field.name}(${path.join('.')})`;

    it('finds the string arguments of the contract to try', async () => {
      const found = (await positionsOf()).map(describePosition);
      expect(found).toEqual(
        expect.arrayContaining([
          'auction(id)',
          'auctions(filter.sellerId)',
          'auctions(filter.query)',
          'auctions(after)',
          'bid(id)',
          'signUp(input.email)',
          'signUp(input.password)',
          'signUp(input.displayName)',
          'signUp(input.phone)',
          'signIn(email)',
          'signIn(password)',
          'updateMe(input.displayName)',
          'updateMe(input.phone)',
          'createAuction(input.title)',
          'createAuction(input.description)',
          'createAuction(input.currency)',
          'updateAuction(id)',
          'updateAuction(input.title)',
          'updateAuction(input.description)',
          'cancelAuction(id)',
          'cancelAuction(reason)',
          'placeBid(input.auctionId)',
          'placeBid(input.idempotencyKey)',
        ]),
      );
    });

    it('refuses NUL and unpaired surrogates in every one, sent as a variable or written inline, naming the field, and changes nothing', async () => {
      const before = await snapshot();
      for (const position of await positionsOf()) {
        const field = position.path.at(-1)!;
        await fc.assert(
          fc.asyncProperty(unstorable, async (bad) => {
            const { query, variables } = operationWith(position, bad, false);
            expectRefused(await send(app.url, query, variables, { token: tokenFor(position) }), field, describePosition(position));
          }),
          runs(5),
        );
        // A document cannot hold an unpaired surrogate even escaped (that is a syntax error); NUL it can, as \u0000.
        const inline = operationWith(position, 'before\u0000after', true);
        expectRefused(await send(app.url, inline.query, undefined, { token: tokenFor(position) }), field, describePosition(position));
      }
      expect(await snapshot()).toEqual(before);
      // A refused sign-up made no user: the address is still free.
      const signUp = await send(app.url, 'mutation ($input: SignUpInput!) { signUp(input: $input) { user { id } } }', {
        input: { email: sweepEmail, password: 'correct horse battery', displayName: 'Sweep' },
      });
      expect(signUp.body.errors).toBeUndefined();
    });

    it('refuses a string past its field’s maximum length in every one, naming the field, and changes nothing', async () => {
      const before = await snapshot();
      for (const position of await positionsOf()) {
        const field = position.path.at(-1)!;
        const { query, variables } = operationWith(position, 'a'.repeat(10_001), false);
        const answer = await send(app.url, query, variables, { token: tokenFor(position) });
        expectRefused(answer, field, describePosition(position));
        expect(answer.body.errors[0].message).toMatch(/at most \d+ characters/);
      }
      expect(await snapshot()).toEqual(before);
    });

    it('still takes a long description and the text every field allows', async () => {
      const created = await send(app.url, createAuctionDocument, { input: listing({ description: 'd'.repeat(10_000), title: 't'.repeat(120) }) }, { token: seller.token });
      expect(created.body.errors, created.text).toBeUndefined();
    });
  });

  describe('garbled pagination cursors', () => {
    it('refuses a forged cursor for any order with BAD_USER_INPUT on after, never an internal error', async () => {
      await fc.assert(
        fc.asyncProperty(garbledCursor, fc.constantFrom('ENDING_SOON', 'NEWLY_LISTED', 'PRICE_LOW_TO_HIGH', 'PRICE_HIGH_TO_LOW'), async (after, orderBy) => {
          const answer = await send(app.url, auctionsDocument, { orderBy, after });
          expectGraphQLShaped(answer);
          expect(answer.body.errors[0].extensions, `${orderBy} ${JSON.stringify(after)}`).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
        }),
        runs(120),
      );
    });

    it('refuses a forged cursor of the bid history with BAD_USER_INPUT on after', async () => {
      const query = 'query ($id: ID!, $after: String) { auction(id: $id) { bids(first: 5, after: $after) { edges { cursor } } } }';
      await fc.assert(
        fc.asyncProperty(garbledCursor, async (after) => {
          const answer = await send(app.url, query, { id: auctionId, after });
          expectGraphQLShaped(answer);
          expect(answer.body.errors[0].extensions, JSON.stringify(after)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
        }),
        runs(60),
      );
    });

    it('follows the cursors it made itself, so the refusals above are about forgery', async () => {
      const first = await ok(app.url, ListAuctionsDocument, { first: 1, orderBy: 'PRICE_HIGH_TO_LOW' });
      const next = await ok(app.url, ListAuctionsDocument, { first: 1, orderBy: 'PRICE_HIGH_TO_LOW', after: first.auctions.pageInfo.endCursor });
      expect(next.auctions.edges[0]?.node.id).not.toBe(first.auctions.edges[0]?.node.id);
      const newest = await ok(app.url, AuctionBidsDocument, { id: auctionId, first: 1 });
      const older = await ok(app.url, AuctionBidsDocument, { id: auctionId, first: 1, after: newest.auction?.bids.pageInfo.endCursor });
      expect(older.auction?.bids.edges.map((edge) => edge.node.amount)).toEqual(['10.00']);
    });
  });

  describe('status codes by the media type the client accepts', () => {
    const refusals: Array<[string, string, Record<string, unknown> | undefined, string]> = [
      ['a variable that does not coerce', auctionsDocument, { first: 'ten' }, 'first'],
      ['an invalid literal', '{ auctions(filter: { minPrice: "12.345" }) { edges { cursor } } }', undefined, 'minPrice'],
      ['a string holding NUL', auctionsDocument, { filter: { query: 'a\u0000b' } }, 'query'],
    ];

    it.each(refusals)('answers %s 400 in application/graphql-response+json, without data', async (_name, query, variables, field) => {
      const answer = await send(app.url, query, variables, { accept: GRAPHQL_RESPONSE_JSON });
      expectRefused(answer, field);
      expect(answer.contentType).toMatch(/^application\/graphql-response\+json/);
    });

    it.each(refusals)('answers %s 400 in application/json too, as the spec allows for request errors', async (_name, query, variables, field) => {
      const answer = await send(app.url, query, variables, { accept: 'application/json' });
      expectRefused(answer, field);
      expect(answer.contentType).toMatch(/^application\/json/);
    });
  });

  describe('request bodies that are not GraphQL requests', () => {
    it('answers a body that is not JSON 400, as JSON without a stack trace', async () => {
      const truncated = fc
        .json()
        .map((text) => `{"query":"{ serverTime }","variables":${text}`)
        .chain((text) => fc.integer({ min: 1, max: text.length - 1 }).map((end) => text.slice(0, end)));
      // An empty body is a missing body, which Apollo answers itself.
      const junk = fc.string({ minLength: 1 }).filter((text) => {
        try {
          JSON.parse(text);
          return false;
        } catch {
          return true;
        }
      });
      await fc.assert(
        fc.asyncProperty(fc.oneof(truncated, junk, fc.constantFrom('"just a string"', '42', 'null', 'true', '{bad json')), async (body) => {
          expectBodyRefused(await post(app.url, body), 400, 'MALFORMED_JSON');
        }),
        runs(40),
      );
    });

    it('answers a body that is not JSON 415, whatever else it claims to be', async () => {
      const contentTypes = fc.constantFrom('text/plain', 'text/html', 'application/xml', 'application/graphql', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/octet-stream');
      await fc.assert(
        fc.asyncProperty(contentTypes, async (contentType) => {
          expectBodyRefused(await post(app.url, '{"query":"{ serverTime }"}', { 'content-type': contentType }), 415, 'UNSUPPORTED_MEDIA_TYPE');
        }),
        runs(14),
      );
    });

    it('answers a body over 256 kB 413', async () => {
      const body = JSON.stringify({ query: `{ serverTime } # ${'x'.repeat(300_000)}` });
      expectBodyRefused(await post(app.url, body), 413, 'BODY_TOO_LARGE');
    });

    it('answers a charset other than UTF-8 415', async () => {
      expectBodyRefused(await post(app.url, '{"query":"{ serverTime }"}', { 'content-type': 'application/json; charset=latin1' }), 415, 'UNSUPPORTED_CHARSET');
    });

    it('answers an unknown content encoding 415, and a corrupt compressed body 400', async () => {
      expectBodyRefused(await post(app.url, '{"query":"{ serverTime }"}', { 'content-encoding': 'x-unheard-of' }), 415, 'UNSUPPORTED_CONTENT_ENCODING');
      const corrupt = gzipSync('{"query":"{ serverTime }"}').subarray(0, 12);
      expectBodyRefused(await post(app.url, corrupt, { 'content-encoding': 'gzip' }), 400, 'BAD_REQUEST');
    });

    it('still reads a gzip-compressed request', async () => {
      const answer = await post(app.url, gzipSync('{"query":"{ serverTime }"}'), { 'content-encoding': 'gzip' });
      expect(answer.status, answer.text).toBe(200);
      expect(answer.body.data.serverTime).toEqual(expect.any(String));
    });

    it('answers a JSON body that is not a GraphQL request 400 with BAD_USER_INPUT', async () => {
      for (const body of ['{"qeury":"{ serverTime }"}', '{"query":"{ serverTime }","variables":[7]}', '{"query":{"a":1}}', '[{"query":"{ serverTime }"}]', '{}']) {
        const answer = await post(app.url, body);
        expectGraphQLShaped(answer);
        expect(answer.status, body).toBe(400);
        expect(answer.body.errors[0].extensions.code, body).toBe('BAD_USER_INPUT');
      }
    });

    it('answers an address nothing serves with a JSON 404', async () => {
      const origin = new URL(app.url).origin;
      const paths = fc.stringMatching(/^[a-z0-9-]{1,20}$/).filter((name) => !['graphql', 'healthz', 'readyz', 'metrics', 'webhooks', 'playground'].includes(name));
      await fc.assert(
        fc.asyncProperty(paths, fc.constantFrom('GET', 'POST', 'DELETE'), async (path, method) => {
          const response = await fetch(`${origin}/${path}`, { method });
          const text = await response.text();
          expect(response.status, text).toBe(404);
          expect(response.headers.get('content-type')).toMatch(/^application\/json/);
          expect(JSON.parse(text)).toEqual({ errors: [{ message: expect.any(String), extensions: { code: 'NOT_FOUND' } }] });
        }),
        runs(15),
      );
    });
  });
});

describeApp('inputs refused over the WebSocket as over HTTP', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    await app?.close();
  });

  it('answers a subscribe whose variables do not coerce or hold NUL with BAD_USER_INPUT naming the variable', async () => {
    const client = await connect(app.wsUrl);
    try {
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ auctionId: randomUUID(), afterSeq: 'seven' }, 'afterSeq'],
        [{ auctionId: `${randomUUID()}\u0000` }, 'auctionId'],
        [{ auctionId: '\ud800' }, 'auctionId'],
      ];
      for (const [variables, field] of cases) {
        const subscription = subscribe(client, AuctionEventsDocument, variables as never);
        await subscription.ended();
        expect(subscription.errors[0]?.extensions?.code, JSON.stringify(variables)).toBe('BAD_USER_INPUT');
        expect(subscription.errors[0]?.extensions?.field).toBe(field);
      }
    } finally {
      await client.dispose();
    }
  });
});
