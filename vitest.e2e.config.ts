import { defineConfig } from 'vitest/config'

/** End-to-end: the built app in web mode, driven in Debian's Chromium by playwright-core. */
export default defineConfig({
  test: {
    name: 'e2e',
    environment: 'node',
    include: ['test/e2e/**/*.spec.ts'],
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 120_000,
  },
})
