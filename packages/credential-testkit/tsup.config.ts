import { defineConfig } from 'tsup'

export default defineConfig({
  entry: ['src/api-key-authenticator.ts'],
  format: ['esm'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
})
