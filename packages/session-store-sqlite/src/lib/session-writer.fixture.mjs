// A server process for the crash test: it writes sessions as fast as it can and prints each id
// once `set` has resolved (acknowledged), until it is killed. Runs the built package.
import { createSqliteStore } from '../../dist/index.js'

const store = createSqliteStore({ path: process.env.FIXTURE_DB, driver: process.env.FIXTURE_DRIVER || undefined, sweepInterval: 0 })
for (let i = 0; ; i++) {
  const now = Date.now()
  const id = `session-${i}`
  await store.set({ id, userId: 'alice', data: { userId: 'alice', i }, version: 1, createdAt: now, lastActiveAt: now, expiresAt: now + 3_600_000 })
  process.stdout.write(`${id}\n`)
}
