import { defineConfig } from 'vitest/config'

/** End-to-end: the built app in web mode, driven in Debian's Chromium by playwright-core. */
export default defineConfig({
  test: {
    name: 'e2e',
    environment: 'node',
    include: ['test/e2e/**/*.spec.ts'],
    // why two at once: the journey spec waits 5 minutes on a time-budgeted search, and the other specs fit beside
    // it (each starts its own server on a free port with its own data folder, and its own browser); the search
    // ends on its budget whatever else runs
    fileParallelism: true,
    maxWorkers: 2,
    testTimeout: 300_000,
    hookTimeout: 120_000,
  },
})
