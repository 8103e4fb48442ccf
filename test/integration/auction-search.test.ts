import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeApp, startTestApp, type TestApp } from '../support/app.js';
import { fails, ok, request } from '../support/client.js';
import { createAuction, inMinutes, signUpUser, type TestUser } from '../support/factories.js';
import { ListAuctionsDocument, type AuctionOrder } from '../generated/graphql.js';

const ORDERS: AuctionOrder[] = ['ENDING_SOON', 'NEWLY_LISTED', 'PRICE_LOW_TO_HIGH', 'PRICE_HIGH_TO_LOW'];

describeApp('searching auctions', () => {
  let app: TestApp;
  let seller: TestUser;
  // Listed in this order; the fixed end gives ENDING_SOON ties that only the id can break.
  const catalogue = [
    { key: 'brassLamp', title: 'Brass desk lamp', description: 'Green glass shade, rewired.', startingPrice: '40.00', endsAt: 0 },
    { key: 'copperLamp', title: 'Copper lamp', description: 'Hammered base with a brass switch.', startingPrice: '25.00', endsAt: 0 },
    { key: 'brassTelescope', title: 'Telescope', description: 'BRASS tube on a walnut tripod.', startingPrice: '25.00', endsAt: 30 },
    { key: 'walnutChair', title: 'Walnut chair', description: 'Caned seat.', startingPrice: '90.00', endsAt: 30 },
    { key: 'lampsPair', title: 'Pair of lamps', description: 'Brass-and-glass, 1930s.', startingPrice: '60.00', endsAt: 10 },
    { key: 'camera', title: 'Rangefinder camera', description: "Leica M6, the photographer's favourite.", startingPrice: '900.00', endsAt: 20 },
  ] as const;
  type Key = (typeof catalogue)[number]['key'];
  const ids = {} as Record<Key, string>;
  const keyOf = new Map<string, Key>();

  beforeAll(async () => {
    app = await startTestApp();
    seller = await signUpUser(app.url, { displayName: 'Searcher' });
    const base = Date.now();
    for (const { key, endsAt, ...input } of catalogue) {
      const auction = await createAuction(app.url, seller, { ...input, endsAt: inMinutes(120 + endsAt, base) });
      ids[key] = auction.id;
      keyOf.set(auction.id, key);
    }
  });
  afterAll(async () => {
    await app?.close();
  });

  const search = async (query: string, orderBy: AuctionOrder = 'ENDING_SOON', first = 100, after?: string | null) => {
    const { auctions } = await ok(app.url, ListAuctionsDocument, { filter: { sellerId: seller.id, query }, orderBy, first, after });
    return auctions;
  };
  const found = async (query: string, orderBy?: AuctionOrder) => (await search(query, orderBy)).edges.map((e) => keyOf.get(e.node.id));
  const foundSet = async (query: string) => new Set(await found(query));

  it('finds a word in the title or only in the description, in any case', async () => {
    expect(await foundSet('brass')).toEqual(new Set(['brassLamp', 'copperLamp', 'brassTelescope', 'lampsPair']));
    expect(await foundSet('TRIPOD')).toEqual(new Set(['brassTelescope']));
    expect(await foundSet('Caned')).toEqual(new Set(['walnutChair']));
  });

  it('finds only auctions holding every word of a two-word search, across title and description', async () => {
    expect(await foundSet('brass lamp')).toEqual(new Set(['brassLamp', 'copperLamp', 'lampsPair']));
    expect(await foundSet('walnut brass')).toEqual(new Set(['brassTelescope']));
    expect(await foundSet('walnut caned')).toEqual(new Set(['walnutChair']));
    expect(await foundSet('copper telescope')).toEqual(new Set());
  });

  it('matches the last word as the start of a word and the others only whole', async () => {
    expect(await foundSet('teles')).toEqual(new Set(['brassTelescope']));
    expect(await foundSet('brass tele')).toEqual(new Set(['brassTelescope']));
    expect(await foundSet('teles brass')).toEqual(new Set());
    // "lamp" also finds the plural, which whole-word matching alone would miss.
    expect(await foundSet('lamp')).toEqual(new Set(['brassLamp', 'copperLamp', 'lampsPair']));
  });

  it('finds words joined by punctuation, as the description writes them', async () => {
    expect(await foundSet('glass brass')).toEqual(new Set(['brassLamp', 'lampsPair']));
    expect(await foundSet('Leica M6')).toEqual(new Set(['camera']));
    expect(await foundSet("photographer's")).toEqual(new Set(['camera']));
  });

  it('lists matches in each order the contract names', async () => {
    expect(await found('brass', 'ENDING_SOON')).toEqual(
      [...[ids.brassLamp, ids.copperLamp].sort().map((id) => keyOf.get(id)), 'lampsPair', 'brassTelescope'],
    );
    expect(await found('brass', 'NEWLY_LISTED')).toEqual(['lampsPair', 'brassTelescope', 'copperLamp', 'brassLamp']);
    expect(await found('brass', 'PRICE_LOW_TO_HIGH')).toEqual([
      ...[ids.copperLamp, ids.brassTelescope].sort().map((id) => keyOf.get(id)),
      'brassLamp',
      'lampsPair',
    ]);
    expect(await found('brass', 'PRICE_HIGH_TO_LOW')).toEqual([
      'lampsPair',
      'brassLamp',
      ...[ids.copperLamp, ids.brassTelescope].sort().reverse().map((id) => keyOf.get(id)),
    ]);
  });

  it('pages through search results in every order without skipping or repeating, ties included', async () => {
    for (const orderBy of ORDERS) {
      const whole = (await search('brass', orderBy)).edges.map((e) => e.node.id);
      const paged: string[] = [];
      let after: string | null | undefined;
      for (let page = 0; page < 10; page++) {
        const { edges, pageInfo } = await search('brass', orderBy, 1, after);
        paged.push(...edges.map((e) => e.node.id));
        if (!pageInfo.hasNextPage) break;
        after = pageInfo.endCursor;
      }
      expect(paged, orderBy).toEqual(whole);
      expect(whole).toHaveLength(4);
    }
  });

  it('refuses a search with a NUL character or over 200 characters as BAD_USER_INPUT on query', async () => {
    for (const query of ['brass\u0000lamp', 'lamp '.repeat(2_000)]) {
      const error = await fails(app.url, ListAuctionsDocument, { filter: { query } });
      expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'query' });
    }
  });

  it('reads text-search operators as plain text', async () => {
    expect(await foundSet("brass & !walnut | (tripod) :* '\\")).toEqual(new Set(['brassTelescope']));
    // ":*" is not read as prefix syntax: "lamp:*" is the word "lamp", whole, so "lamps" is not found.
    expect(await foundSet('lamp:*')).toEqual(new Set(['brassLamp', 'copperLamp']));
    expect(await foundSet('brass <-> lamp')).toEqual(new Set(['brassLamp', 'copperLamp', 'lampsPair']));
    expect(await foundSet("&|!():*'\\")).toEqual(new Set(Object.keys(ids)));
  });

  it('answers any search text with results or BAD_USER_INPUT, never another error', async () => {
    const syntax = fc.constantFrom('&', '|', '!', '(', ')', ':', '*', "'", '\\', '<->', '<2>', '"', '-', ' or ', '\u0000', 'brass', 'lamp', ' ');
    const text = fc.oneof(fc.string({ unit: fc.oneof(syntax, fc.string({ unit: 'binary', maxLength: 3 })), maxLength: 30 }), fc.string({ unit: 'binary', maxLength: 300 }));
    await fc.assert(
      fc.asyncProperty(text, fc.constantFrom(...ORDERS), async (query, orderBy) => {
        const result = await request(app.url, ListAuctionsDocument, { filter: { sellerId: seller.id, query }, orderBy });
        expect(result.status).toBeLessThan(500);
        if (result.errors) expect(result.errors.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
        else expect(result.data?.auctions.edges.length).toBeLessThanOrEqual(catalogue.length);
      }),
      { numRuns: 150, seed: 20261202 },
    );
  });
});
