import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTestClock } from '@pikku/core/testing'
import { describeSessionStoreConformance } from '@pikku/session-store-testkit'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { createSqliteStore, type SqliteStore, type SqliteStoreOptions } from './sqlite-store.js'
import { testDriver, testRecord, type TestSession } from './sqlite-test-driver.test-support.js'

const dir = mkdtempSync(join(tmpdir(), 'pikku-sqlite-cache-'))
let fileCounter = 0
const freshPath = (): string => join(dir, `sessions-${++fileCounter}.db`)
const opened: SqliteStore<TestSession>[] = []

afterAll(() => {
  rmSync(dir, { recursive: true, force: true })
})

afterEach(async () => {
  await Promise.all(opened.splice(0).map((store) => store.close()))
})

function open(path: string, extra: SqliteStoreOptions = {}, clock = createTestClock()): SqliteStore<TestSession> {
  const store = createSqliteStore<TestSession>({ path, driver: testDriver, clock: clock.now, sweepInterval: 0, ...extra })
  opened.push(store)
  return store
}

describeSessionStoreConformance(`SQLite store on ${testDriver} with its read cache (file)`, {
  create: (clock) => createSqliteStore({ path: freshPath(), driver: testDriver, clock: clock.now, sweepInterval: 0, cache: { maxEntries: 100 } }),
  destroy: (store) => store.close?.(),
})

describe('SQLite store with its read cache', () => {
  it('stops answering a session logged out through another connection to the file within a second', async () => {
    const path = freshPath()
    const clock = createTestClock()
    // Two stores on one file stand for two processes: separate connections, each reading the other's events from the file.
    const processA = open(path, { cache: {} }, clock)
    const processB = open(path, {}, clock)
    const stored = testRecord(clock.now())
    await processB.set(stored)
    expect(await processA.get(stored.id)).toBeDefined()
    expect(await processA.get(stored.id)).toBeDefined()
    expect(processA.cache?.hits).toBe(1)
    const revokedAt = Date.now()
    await processB.delete(stored.id, 'revoked')
    await expect.poll(() => processA.get(stored.id), { timeout: 1_000, interval: 5 }).toBeUndefined()
    expect(Date.now() - revokedAt).toBeLessThan(1_000)
  })

  it('refuses a cache that could never hear of other processes’ logouts', () => {
    expect(() => createSqliteStore({ path: freshPath(), driver: testDriver, cache: {}, eventPollInterval: 0 })).toThrow(
      'cache needs eventPollInterval above 0',
    )
  })
})
