import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

// Two programs: `src` is type-checked as the library ships (no app registration), and
// `type-tests` is an app that registers its own UserSession and services through
// `declare module '@pikku/core'`. Keeping the augmentation out of `src` keeps it out of the
// library's own type check and declaration build.
const source = (file: string): string => fileURLToPath(new URL(file, import.meta.url))

export default defineConfig({
  test: {
    // A temporary directory and XDG config of the run's own; fails on leftovers (see the file).
    globalSetup: ['../../scripts/vitest-global-setup.mjs'],
    projects: [
      {
        test: {
          name: 'core',
          include: ['src/**/*.test.ts'],
          typecheck: { enabled: true, include: ['src/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
        },
      },
      {
        // The app imports '@pikku/core' like a user would; it resolves to the source, not dist.
        resolve: {
          alias: [
            { find: /^@pikku\/core$/, replacement: source('./src/index.ts') },
            { find: /^@pikku\/core\/testing$/, replacement: source('./src/testing.ts') },
          ],
        },
        test: {
          name: 'registered-app',
          include: ['type-tests/**/*.test.ts'],
          typecheck: { enabled: true, include: ['type-tests/**/*.test-d.ts'], tsconfig: './type-tests/tsconfig.json' },
        },
      },
    ],
  },
})
