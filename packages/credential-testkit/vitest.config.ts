import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    // A temporary directory and XDG config of the run's own; fails on leftovers (see the file).
    globalSetup: ['../../scripts/vitest-global-setup.mjs'],
    include: ['src/**/*.test.ts'],
  },
})
