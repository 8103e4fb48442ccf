import { fileURLToPath } from 'node:url';
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

// type-graphql reads decorator metadata, which esbuild drops: SWC transforms the TypeScript instead.
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

export default defineConfig({
  resolve,
  oxc: false,
  esbuild: false,
  plugins: [swcPlugin()],
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      {
        plugins: [swcPlugin()],
        resolve,
        oxc: false,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'] },
      },
      {
        plugins: [swcPlugin()],
        resolve,
        oxc: false,
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
        plugins: [swcPlugin()],
        resolve,
        oxc: false,
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
