import { fileURLToPath } from 'node:url';
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

// type-graphql reads decorator metadata, which esbuild drops: SWC transforms the TypeScript instead.
// The inline projects below extend this file, so they inherit the plugin and the resolve alias.
const swcPlugin = () =>
  swc.vite({
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2023',
    },
  });

// Node's own resolution gives the dependencies graphql's CommonJS entry; the tests must see the same
// module, or type-graphql's `instanceof GraphQLScalarType` checks fail across two copies.
const resolve = { alias: [{ find: /^graphql$/, replacement: fileURLToPath(new URL('node_modules/graphql/index.js', import.meta.url)) }] };

/** Where a CI run writes its JSON report (git ignores it; .ci/run reads it). */
const CI_TEST_REPORT = 'test-results/vitest.json';

export default defineConfig({
  resolve,
  oxc: false,
  esbuild: false,
  plugins: [swcPlugin()],
  test: {
    // kafkajs 2.2.4 schedules a timer at (-1 - Date.now()) ms on every connection (tulios/kafkajs#1751);
    // Node runs it at 1 ms, as kafkajs means, but warns each time.
    execArgv: ['--disable-warning=TimeoutNegativeWarning'],
    // In CI a JSON report too, from which .ci/run checks the skipped tests against .ci/skipped-tests-allowed.
    reporters: process.env.CI === 'true' ? ['default', ['json', { outputFile: CI_TEST_REPORT }]] : ['default'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      {
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'] },
      },
      {
        test: {
          name: 'embedded',
          include: ['test/integration/**/*.test.ts'],
          env: { TEST_TARGET: 'embedded' },
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'services',
          include: ['test/integration/**/*.test.ts'],
          env: { TEST_TARGET: 'services' },
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
          globalSetup: ['test/support/services.global-setup.ts'],
        },
      },
    ],
  },
});
