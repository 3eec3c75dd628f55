import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Two cores: files that start servers and redis-servers run two at a time.
    maxWorkers: 2,
    env: { NODE_ENV: 'test' },
  },
});
