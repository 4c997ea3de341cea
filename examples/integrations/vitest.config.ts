import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // Building the Next.js app and starting Bun and Deno take longer than a unit test.
    hookTimeout: 300_000,
    testTimeout: 30_000,
  },
})
