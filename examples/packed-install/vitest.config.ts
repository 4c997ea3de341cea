import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // Packing four packages, one npm install and a TypeScript compile: about 30 s on an idle machine.
    testTimeout: 240_000,
    hookTimeout: 240_000,
  },
})
