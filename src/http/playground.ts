import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import express, { type Request, type Router } from 'express';
import { PLAYGROUND_SCRIPT } from './playground-script.js';

/** Where the playground's scripts and styles are served, from the installed npm packages. */
export const PLAYGROUND_ASSETS_PATH = '/playground/assets';

/**
 * Only the page's own origin: GraphiQL needs inline styles (its editors and popovers set them) and
 * data: fonts and icons from its stylesheet, nothing else. `connect-src 'self'` covers the
 * same-host WebSocket too.
 */
export const PLAYGROUND_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const DEFAULT_QUERY = `# GraphiQL, served by this gateway: it needs no internet access.
#
# Queries and mutations go over HTTP, subscriptions over graphql-ws on the same URL.
# To act as a user, run signUp or signIn and put the token in the Headers tab:
#   { "Authorization": "Bearer <token>" }
# It is sent with every request and as the WebSocket's connectionParams.

query EndingSoon {
  serverTime
  auctions(filter: { status: ACTIVE }, orderBy: ENDING_SOON, first: 10) {
    edges { node { id title currentPrice minimumNextBid endsAt } }
    pageInfo { hasNextPage endCursor }
  }
}
`;

// createRequire resolves the same packages from src/ under the tests and from dist/ in production.
const require = createRequire(import.meta.url);

interface Asset {
  /** The URL's query string changes with the content, so the file may be cached for good. */
  version: string;
  send(res: express.Response): void;
}

const YEAR_SECONDS = 365 * 24 * 3600;

function packageAsset(pkg: string, file: string): Asset {
  const manifest = require.resolve(`${pkg}/package.json`);
  const { version } = require(manifest) as { version: string };
  const filePath = path.join(path.dirname(manifest), file);
  return {
    version,
    send: (res) => res.sendFile(filePath, { maxAge: YEAR_SECONDS * 1000, immutable: true }),
  };
}

function playgroundAssets(): Map<string, Asset> {
  const script: Asset = {
    version: createHash('sha256').update(PLAYGROUND_SCRIPT).digest('hex').slice(0, 12),
    send: (res) => {
      res.type('js').set('cache-control', `public, max-age=${YEAR_SECONDS}, immutable`).send(PLAYGROUND_SCRIPT);
    },
  };
  return new Map([
    ['react.production.min.js', packageAsset('react', 'umd/react.production.min.js')],
    ['react-dom.production.min.js', packageAsset('react-dom', 'umd/react-dom.production.min.js')],
    ['graphiql.min.js', packageAsset('graphiql', 'graphiql.min.js')],
    ['graphiql.min.css', packageAsset('graphiql', 'graphiql.min.css')],
    ['graphql-ws.min.js', packageAsset('graphql-ws', 'umd/graphql-ws.min.js')],
    ['playground.js', script],
  ]);
}

/** The page's settings, as JSON that cannot close its script element. */
const jsonForScript = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

function playgroundPage(endpoint: string, assets: Map<string, Asset>): string {
  const src = (name: string) => `${PLAYGROUND_ASSETS_PATH}/${name}?v=${assets.get(name)!.version}`;
  const scripts = ['react.production.min.js', 'react-dom.production.min.js', 'graphiql.min.js', 'graphql-ws.min.js', 'playground.js'];
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Auction platform · GraphiQL</title>
<link rel="stylesheet" href="${src('graphiql.min.css')}">
<style>html, body, #graphiql { height: 100%; margin: 0; }</style>
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<script type="application/json" id="playground-config">${jsonForScript({ endpoint, defaultQuery: DEFAULT_QUERY })}</script>
${scripts.map((name) => `<script src="${src(name)}"></script>`).join('\n')}
</body>
</html>
`;
}

/** Browsers navigating to the endpoint ask for HTML first; GraphQL clients never do. */
const prefersHtml = (req: Request) => req.accepts(['application/json', 'application/graphql-response+json', 'text/html']) === 'text/html';

/**
 * GraphiQL at `GET <endpoint>` for browsers, with its assets under `/playground/assets/`, all from
 * the installed npm packages: the playground works without internet access. Every other request
 * to the endpoint passes through to the GraphQL server.
 */
export function createPlaygroundRouter(endpoint = '/graphql'): Router {
  const assets = playgroundAssets();
  const page = playgroundPage(endpoint, assets);
  const router = express.Router();

  // Middleware rather than a GET route: a route would also answer OPTIONS for the endpoint,
  // shadowing the CORS preflight handled in front of the GraphQL server.
  router.use(endpoint, (req, res, next) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || req.path !== '/' || !prefersHtml(req)) return next();
    res
      .set({
        'content-security-policy': PLAYGROUND_CSP,
        'cache-control': 'no-cache',
        'referrer-policy': 'no-referrer',
        'x-content-type-options': 'nosniff',
      })
      .type('html')
      .send(page);
  });

  router.get(`${PLAYGROUND_ASSETS_PATH}/:name`, (req, res, next) => {
    const asset = assets.get(req.params.name);
    if (!asset) return next();
    res.set('x-content-type-options', 'nosniff');
    asset.send(res);
  });

  return router;
}
