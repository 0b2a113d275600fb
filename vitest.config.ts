import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores here: TensorFlow tests are CPU-bound, so run files one or two at a time.
    maxWorkers: 2,
    pool: 'forks',
  },
});
