import { defineConfig } from 'tsup'

export default defineConfig({
  entry: ['src/index.ts', 'src/store.ts', 'src/protocol.ts', 'src/testing.ts'],
  format: ['esm'],
  // Declarations come from tsc (tsconfig.build.json), which also writes declaration maps.
  dts: false,
  clean: true,
  sourcemap: true,
  target: 'node20',
})
