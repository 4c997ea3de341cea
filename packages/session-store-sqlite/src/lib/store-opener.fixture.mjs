// A process for the concurrent-start test: it loads the built package, says 'loaded', waits for
// 'go' on stdin (so every process opens at the same instant), opens the store on FIXTURE_DB,
// writes one session, and prints 'opened' or the error.
import { createInterface } from 'node:readline'
import { createSqliteStore } from '../../dist/index.js'

process.stdout.write('loaded\n')
const lines = createInterface({ input: process.stdin })
for await (const line of lines) {
  if (line !== 'go') continue
  try {
    const store = createSqliteStore({ path: process.env.FIXTURE_DB, driver: process.env.FIXTURE_DRIVER || undefined, sweepInterval: 0 })
    const now = Date.now()
    await store.set({ id: `session-${process.pid}`, userId: 'alice', data: { userId: 'alice' }, version: 1, createdAt: now, lastActiveAt: now, expiresAt: now + 60_000 })
    await store.close()
    process.stdout.write('opened\n')
  } catch (error) {
    process.stdout.write(`failed ${error?.cause?.message ?? error?.message ?? String(error)}\n`)
  }
  break
}
lines.close()
