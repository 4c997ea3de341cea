import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // The process tests spawn node, a server and tmux; give them room on a busy machine.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
})
