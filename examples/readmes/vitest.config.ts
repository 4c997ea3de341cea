import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // Each block is a TypeScript program of its own; the first loads the packages' declarations.
    testTimeout: 120_000,
  },
})
