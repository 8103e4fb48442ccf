# syntax=docker/dockerfile:1
# The auction platform's one image: every role (gateway, workers, all) and the migration job.
#   docker build -t auction-platform .
#   docker run -e JWT_SECRET=... -e DATABASE_URL=... auction-platform node dist/src/main.js --role gateway
# docker-compose.yml runs the whole system from it.

# The same Node as .nvmrc and .ci/run.
ARG NODE_IMAGE=node:24.21.0-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
# No package needs its install script: Prisma generates with its WebAssembly engine, and the
# schema-engine download that @prisma/engines' script would attempt is never used.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
# Exactly the inputs of `npm run build` (scripts/build-if-stale.mjs hashes the same list).
COPY tsconfig.json tsconfig.build.json prisma.config.ts ./
COPY prisma ./prisma
COPY scripts ./scripts
COPY src ./src
# Prisma Client is generated into src/generated and compiled with the rest into dist/.
RUN CHECKPOINT_DISABLE=1 npm run build

FROM ${NODE_IMAGE} AS runtime
# kafkajs 2.2.4 sets a negative timer on every connection (tulios/kafkajs#1751); Node warns each time.
ENV NODE_ENV=production \
    DATA_DIR=/app/.data \
    NODE_OPTIONS=--disable-warning=TimeoutNegativeWarning
WORKDIR /app
# package.json also says "type": "module", which the compiled ESM in dist/ needs.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# Read at run time: by the migration job, by MIGRATE_ON_START, and by /readyz's pending check.
COPY prisma/migrations ./prisma/migrations
# The only directory the app writes: the embedded database when no DATABASE_URL is given.
RUN mkdir -p .data && chown node:node .data
USER node
EXPOSE 4000
# /healthz answers while the process lives; the workers role serves no HTTP (compose disables this there).
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Exec form, so node is PID 1 and receives SIGTERM itself; `npm start` would not pass it on.
# Another role: `docker run ... auction-platform node dist/src/main.js --role workers`.
CMD ["node", "dist/src/main.js", "--role", "all"]
