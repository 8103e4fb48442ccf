import { randomUUID } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { describeBrowser, launchChromium, offlineContext, servePage, type OfflineContext } from '../support/browser.js';
import { ok } from '../support/client.js';
import { createAuction, signUpCast, type TestUser } from '../support/factories.js';
import { PlaceBidDocument } from '../generated/graphql.js';

/**
 * A front end on another origin: it calls the API with fetch and opens a graphql-ws subscription
 * with a bare WebSocket, and writes what happened into #http and #ws. The API's URL and the
 * subscription come in the query string.
 */
const FRONT_END_PAGE = `<!doctype html>
<meta charset="utf-8">
<title>front end</title>
<pre id="http">pending</pre>
<pre id="ws">pending</pre>
<script>
  const params = new URLSearchParams(location.search);
  const api = params.get('api');
  const show = (id, text) => { document.getElementById(id).textContent = text; };

  fetch(api, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': 'from-the-front-end' },
    body: JSON.stringify({ query: '{ serverTime }' }),
  })
    .then(async (response) => show('http', 'answered ' + response.headers.get('x-request-id') + ' ' + JSON.stringify(await response.json())))
    .catch((error) => show('http', 'failed ' + error));

  const socket = new WebSocket(api.replace(/^http/, 'ws'), 'graphql-transport-ws');
  let delivered = false;
  socket.onopen = () => socket.send(JSON.stringify({ type: 'connection_init', payload: {} }));
  socket.onmessage = (message) => {
    const data = JSON.parse(message.data);
    if (data.type === 'connection_ack') {
      socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: params.get('subscription') } }));
    } else if (data.type === 'next') {
      delivered = true;
      show('ws', 'event ' + JSON.stringify(data.payload));
      socket.close(1000);
    } else if (data.type === 'error') {
      show('ws', 'error ' + JSON.stringify(data.payload));
    }
  };
  socket.onclose = (event) => { if (!delivered) show('ws', 'closed ' + event.code); };
</script>
`;

/** CodeMirror 5 keeps its editor object on its root element; the tests' TypeScript has no DOM types. */
type CodeMirrorElement = { CodeMirror: { getValue(): string; setValue(value: string): void } };

const QUERY_EDITOR = '.graphiql-query-editor .CodeMirror';
const VISIBLE_TOOL_EDITOR = '.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror';
const RESULT_PANE = '.graphiql-response .CodeMirror';

/** Drives GraphiQL through its editors' CodeMirror instances, as typing would. */
const graphiql = {
  async open(page: Page, url: string) {
    const response = await page.goto(url);
    await page.locator(QUERY_EDITOR).waitFor();
    return response;
  },
  text: (page: Page, selector: string) => page.locator(selector).evaluate((element) => (element as unknown as CodeMirrorElement).CodeMirror.getValue()),
  async setText(page: Page, selector: string, text: string) {
    await page.locator(selector).evaluate((element, value) => (element as unknown as CodeMirrorElement).CodeMirror.setValue(value), text);
  },
  setQuery: (page: Page, text: string) => graphiql.setText(page, QUERY_EDITOR, text),
  async setHeaders(page: Page, headers: Record<string, string>) {
    await page.locator('.graphiql-editor-tools').getByRole('button', { name: 'Headers', exact: true }).click();
    await graphiql.setText(page, VISIBLE_TOOL_EDITOR, JSON.stringify(headers));
  },
  run: (page: Page) => page.locator('.graphiql-execute-button').click(),
  /** Waits until the result pane's text satisfies `test`, then returns it parsed. */
  async result(page: Page, test: (text: string) => boolean): Promise<any> {
    const deadline = Date.now() + 15_000;
    let text = await graphiql.text(page, RESULT_PANE);
    while (!test(text)) {
      if (Date.now() > deadline) throw new Error(`the result pane never showed the expected answer; it shows: ${text || '(nothing)'}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
      text = await graphiql.text(page, RESULT_PANE);
    }
    return JSON.parse(text);
  },
};

describeBrowser('in a browser', () => {
  let app: TestApp;
  let browser: Browser;
  let frontEnd: Awaited<ReturnType<typeof servePage>>;
  let elsewhere: Awaited<ReturnType<typeof servePage>>;
  let cast: { seller: TestUser; alice: TestUser; bob: TestUser };
  let offline: OfflineContext | undefined;

  beforeAll(async () => {
    browser = await launchChromium();
    [frontEnd, elsewhere] = await Promise.all([servePage(FRONT_END_PAGE), servePage(FRONT_END_PAGE)]);
    app = await startTestApp({ env: { CORS_ORIGINS: frontEnd.origin } });
    cast = await signUpCast(app.url);
  });
  afterEach(async () => {
    await offline?.context.close();
    offline = undefined;
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await Promise.all([frontEnd?.close(), elsewhere?.close()]);
  });

  const apiOrigin = () => new URL(app.url).origin;
  const bid = (user: TestUser, auctionId: string, amount: string) =>
    ok(app.url, PlaceBidDocument, { input: { auctionId, amount, idempotencyKey: randomUUID() } }, user.token);

  describe('the playground', () => {
    it('serves GraphiQL with no internet access and runs a query over HTTP', async () => {
      const title = `Playground lamp ${randomUUID()}`;
      await createAuction(app.url, cast.seller, { title });
      offline = await offlineContext(browser, [apiOrigin()]);
      const page = await offline.context.newPage();

      const response = await graphiql.open(page, app.url);
      expect(response?.headers()['content-security-policy']).toContain("default-src 'none'");
      expect(await graphiql.text(page, QUERY_EDITOR)).toContain('auctions(');

      await graphiql.setQuery(page, `query { serverTime auctions(filter: { query: ${JSON.stringify(title)} }) { edges { node { title } } } }`);
      const sentAfter = Date.now();
      await graphiql.run(page);
      const result = await graphiql.result(page, (text) => text.includes('"serverTime"'));
      const answeredBefore = Date.now();
      expect(result.data.auctions.edges).toEqual([{ node: { title } }]);
      // The server answered this run, on the clock of this machine: its time lies between the two.
      expect(Date.parse(result.data.serverTime)).toBeGreaterThanOrEqual(sentAfter);
      expect(Date.parse(result.data.serverTime)).toBeLessThanOrEqual(answeredBefore);

      expect(offline.blocked).toEqual([]);
      expect(offline.problems).toEqual([]);
    });

    it('runs a subscription over graphql-ws, signed in with the Authorization from the headers editor', async () => {
      const { seller, alice, bob } = cast;
      const auction = await createAuction(app.url, seller);
      const first = await bid(alice, auction.id, auction.minimumNextBid);
      offline = await offlineContext(browser, [apiOrigin()]);
      const page = await offline.context.newPage();
      await graphiql.open(page, app.url);

      await graphiql.setQuery(
        page,
        `subscription { auctionEvents(auctionId: "${auction.id}", afterSeq: 0) { ... on BidPlaced { seq currentPrice bid { amount isMine } } } }`,
      );
      await graphiql.setHeaders(page, { Authorization: `Bearer ${alice.token}` });
      await graphiql.run(page);
      // isMine is true only for the viewer's own bid: the WebSocket carried Alice's token.
      const replayed = await graphiql.result(page, (text) => text.includes('"seq": 1'));
      expect(replayed.data.auctionEvents).toMatchObject({ seq: 1, bid: { isMine: true } });

      const second = await bid(bob, auction.id, first.placeBid.auction.minimumNextBid);
      const live = await graphiql.result(page, (text) => text.includes('"seq": 2'));
      expect(live.data.auctionEvents).toEqual({
        seq: 2,
        currentPrice: second.placeBid.auction.currentPrice,
        bid: { amount: second.placeBid.bid.amount, isMine: false },
      });

      expect(offline.blocked).toEqual([]);
      expect(offline.problems).toEqual([]);
    });
  });

  describe('a front end on another origin', () => {
    const subscription = (auctionId: string) => `subscription { auctionEvents(auctionId: "${auctionId}", afterSeq: 0) { ... on BidPlaced { seq } } }`;
    const openFrontEnd = async (origin: string, auctionId: string) => {
      offline = await offlineContext(browser, [apiOrigin(), frontEnd.origin, elsewhere.origin]);
      const page = await offline.context.newPage();
      await page.goto(`${origin}/?${new URLSearchParams({ api: app.url, subscription: subscription(auctionId) })}`);
      await expect.poll(() => page.locator('#http').textContent(), { timeout: 15_000 }).not.toBe('pending');
      await expect.poll(() => page.locator('#ws').textContent(), { timeout: 15_000 }).not.toBe('pending');
      return { http: await page.locator('#http').textContent(), ws: await page.locator('#ws').textContent() };
    };

    it('queries over HTTP and subscribes over WebSocket from an origin in CORS_ORIGINS', async () => {
      const auction = await createAuction(app.url, cast.seller);
      await bid(cast.alice, auction.id, auction.minimumNextBid);

      const { http, ws } = await openFrontEnd(frontEnd.origin, auction.id);
      expect(http).toMatch(/^answered from-the-front-end \{"data":\{"serverTime":"[^"]+"\}\}$/);
      expect(ws).toBe('event {"data":{"auctionEvents":{"seq":1}}}');
    });

    it('is refused both the HTTP answer and the WebSocket from an origin not in CORS_ORIGINS', async () => {
      const auction = await createAuction(app.url, cast.seller);
      await bid(cast.alice, auction.id, auction.minimumNextBid);

      const { http, ws } = await openFrontEnd(elsewhere.origin, auction.id);
      expect(http).toBe('failed TypeError: Failed to fetch');
      // 1006: the handshake never completed (the server answered 403).
      expect(ws).toBe('closed 1006');
    });
  });
});
