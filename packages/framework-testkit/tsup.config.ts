import { defineConfig } from 'tsup'

export default defineConfig({
  entry: ['src/index.ts', 'src/tcp-fault-proxy.ts', 'src/test-services.ts', 'src/bearer-socket-server.ts', 'src/session-records.ts'],
  format: ['esm'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
})
