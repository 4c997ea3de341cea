import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    // A temporary directory and XDG config of the run's own; fails on leftovers (see the file).
    globalSetup: ['../../scripts/vitest-global-setup.mjs'],
    include: ['src/**/*.test.ts'],
    // Building the Next.js app and starting Bun and Deno take longer than a unit test.
    hookTimeout: 300_000,
    testTimeout: 30_000,
  },
})
