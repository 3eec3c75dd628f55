import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // graphql 16 ships CJS (`main`) and ESM (`module`) without an exports map: Node (and so every dependency loaded
    // from node_modules) takes the CJS one, Vite the ESM one. Two instances of graphql break `instanceof` checks
    // ("Cannot use GraphQLSchema from another module or realm"), so tests use the one Node uses in production.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Two cores: files that start servers and redis-servers run two at a time.
    maxWorkers: 2,
    env: { NODE_ENV: 'test' },
  },
});
