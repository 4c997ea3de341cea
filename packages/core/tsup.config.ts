import { defineConfig } from 'tsup'

export default defineConfig({
  entry: ['src/index.ts', 'src/store.ts', 'src/protocol.ts', 'src/testing.ts'],
  format: ['esm'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  external: ['vitest', 'fast-check'],
})
