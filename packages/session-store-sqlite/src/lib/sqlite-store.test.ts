import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type CoreUserSession, type SessionEvent, ServiceUnavailableError } from '@pikku/core'
import { createTestClock } from '@pikku/core/testing'
import { describeSessionStoreConformance } from '@pikku/session-store-testkit'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { createSqliteStore, type SqliteStore } from './sqlite-store.js'
import { sqliteErrorCode } from './sqlite-errors.js'
import { openProbe, testDriver, testRecord, type TestSession } from './sqlite-test-driver.test-support.js'

const dir = mkdtempSync(join(tmpdir(), 'pikku-sqlite-store-'))
let fileCounter = 0
const freshPath = (): string => join(dir, `sessions-${++fileCounter}.db`)
const opened: SqliteStore<CoreUserSession & Record<string, unknown>>[] = []

afterAll(() => {
  rmSync(dir, { recursive: true, force: true })
})

const MINUTE = 60_000

function open(path: string, clock = createTestClock(), extra: Parameters<typeof createSqliteStore>[0] = {}): SqliteStore<TestSession> {
  const store = createSqliteStore<TestSession>({ path, driver: testDriver, clock: clock.now, sweepInterval: 0, ...extra })
  opened.push(store)
  return store
}

afterEach(async () => {
  await Promise.all(opened.splice(0).map((store) => store.close()))
})

const record = testRecord

describeSessionStoreConformance(`SQLite store on ${testDriver} (file)`, {
  create: (clock) => createSqliteStore({ path: freshPath(), driver: testDriver, clock: clock.now, sweepInterval: 0 }),
  destroy: (store) => store.close?.(),
  sweep: (store) => (store as unknown as SqliteStore).sweep(),
})

describeSessionStoreConformance(`SQLite store on ${testDriver} (:memory:)`, {
  create: (clock) => createSqliteStore({ path: ':memory:', driver: testDriver, clock: clock.now, sweepInterval: 0 }),
  destroy: (store) => store.close?.(),
})

describe('SQLite store', () => {
  it('keeps sessions across a restart of the process (reopening the file)', async () => {
    const path = freshPath()
    const clock = createTestClock()
    const first = open(path, clock)
    const stored = record(clock.now(), { data: { userId: 'alice', email: 'a@example.com' } })
    await first.set(stored)
    await first.close()
    const second = open(path, clock)
    expect(await second.get(stored.id)).toEqual(stored)
  })

  it('runs the file in WAL mode', async () => {
    const path = freshPath()
    open(path)
    const probe = openProbe(path)
    try {
      expect(probe.prepare<[], { journal_mode: string }>('PRAGMA journal_mode').get()?.journal_mode).toBe('wal')
    } finally {
      probe.close()
    }
  })

  it('creates the directory of a new database file', async () => {
    const path = join(dir, 'nested', 'deeper', 'sessions.db')
    const store = open(path)
    const stored = record(Date.UTC(2026, 0, 1))
    await store.set(stored)
    expect(await store.get(stored.id)).toBeDefined()
  })

  it('creates a new database file and its directory private to the user', async () => {
    const path = join(dir, 'private', 'sessions.db')
    const store = open(path)
    await store.set(record(Date.UTC(2026, 0, 1)))
    expect(statSync(path).mode & 0o777).toBe(0o600)
    expect(statSync(`${path}-wal`).mode & 0o777).toBe(0o600)
    expect(statSync(join(dir, 'private')).mode & 0o777).toBe(0o700)
  })

  it('sweeps expired rows in batches, announces them as expired and keeps live ones', async () => {
    const clock = createTestClock()
    const path = freshPath()
    const store = open(path, clock, { sweepBatchSize: 3 })
    const expiring = Array.from({ length: 10 }, () => record(clock.now(), { expiresAt: clock.now() + MINUTE }))
    const live = record(clock.now(), { expiresAt: clock.now() + 60 * MINUTE })
    for (const r of [...expiring, live]) await store.set(r)
    const events: SessionEvent[] = []
    store.subscribe((event) => events.push(event))
    clock.advance(MINUTE)
    expect(await store.sweep()).toBe(10)
    expect(events.filter((e) => e.type === 'deleted' && e.reason === 'expired')).toHaveLength(10)
    const probe = openProbe(path)
    try {
      expect(probe.prepare<[], { id: string }>('SELECT id FROM pikku_sessions').all().map((row) => row.id)).toEqual([live.id])
    } finally {
      probe.close()
    }
    expect(await store.sweep()).toBe(0)
  })

  it('opens a file made before session metadata existed: old sessions load, new ones keep their metadata', async () => {
    const path = freshPath()
    const probe = openProbe(path)
    const old = record(Date.now())
    try {
      // The table as version 1 of this package created it, with one session in it.
      probe.exec(`CREATE TABLE pikku_sessions (
        id TEXT PRIMARY KEY NOT NULL, user_id TEXT NOT NULL, data TEXT NOT NULL, version INTEGER NOT NULL,
        created_at INTEGER NOT NULL, last_active_at INTEGER NOT NULL, expires_at INTEGER NOT NULL)`)
      probe
        .prepare<[string, string, string, number, number, number, number]>('INSERT INTO pikku_sessions VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(old.id, old.userId, JSON.stringify(old.data), 1, old.createdAt, old.lastActiveAt, old.expiresAt)
    } finally {
      probe.close()
    }
    const store = createSqliteStore<TestSession>({ path, driver: testDriver, sweepInterval: 0 })
    opened.push(store)
    expect(await store.get(old.id)).toEqual(old)
    const metadata = { protocol: 'http', credential: 'cookie', label: 'Firefox on Linux' }
    const fresh = { ...record(Date.now()), metadata }
    await store.set(fresh)
    expect((await store.get(fresh.id))?.metadata).toEqual(metadata)
    // A second process opening the same file finds the column there already.
    const again = createSqliteStore<TestSession>({ path, driver: testDriver, sweepInterval: 0 })
    opened.push(again)
    expect((await again.get(fresh.id))?.metadata).toEqual(metadata)
  })

  it('sweeps on its timer without being asked', async () => {
    const path = freshPath()
    const store = createSqliteStore<TestSession>({ path, driver: testDriver, sweepInterval: 20 })
    opened.push(store)
    // Real time here: the row expired a minute ago, so the first tick removes it.
    await store.set(record(Date.now() - 2 * MINUTE, { expiresAt: Date.now() - MINUTE }))
    const probe = openProbe(path)
    try {
      const count = (): number | undefined => probe.prepare<[], { n: number }>('SELECT count(*) AS n FROM pikku_sessions').get()?.n
      expect(count()).toBe(1)
      await expect.poll(count, { timeout: 2_000, interval: 20 }).toBe(0)
    } finally {
      probe.close()
    }
  })

  it('never keeps the process alive with its sweep timer', () => {
    const timers = (): number => process.getActiveResourcesInfo().filter((type) => type === 'Timeout').length
    const before = timers()
    const store = createSqliteStore<TestSession>({ path: ':memory:', driver: testDriver, sweepInterval: 60_000 })
    opened.push(store)
    // Only timers that keep the event loop alive are listed; an unref'd one is not.
    expect(timers()).toBe(before)
  })

  it('lets two stores on one file see each other and refuse a stale versioned update', async () => {
    const path = freshPath()
    const clock = createTestClock()
    const a = open(path, clock)
    const b = open(path, clock)
    const stored = record(clock.now())
    await a.set(stored)
    expect(await b.get(stored.id)).toEqual(stored)
    const change = { data: { userId: 'alice', role: 'admin' }, lastActiveAt: clock.now(), expiresAt: stored.expiresAt }
    expect(await b.update(stored.id, 1, change)).toBe('ok')
    expect(await a.update(stored.id, 1, { ...change, data: { userId: 'alice', role: 'stale' } })).toBe('conflict')
    expect((await a.get(stored.id))?.data).toEqual({ userId: 'alice', role: 'admin' })
  })

  it('refuses an update that changes the owner', async () => {
    const clock = createTestClock()
    const store = open(freshPath(), clock)
    const stored = record(clock.now())
    await store.set(stored)
    await expect(store.update(stored.id, 1, { data: { userId: 'mallory' }, lastActiveAt: clock.now(), expiresAt: stored.expiresAt })).rejects.toThrow(
      /cannot change userId/,
    )
    expect((await store.get(stored.id))?.userId).toBe('alice')
  })

  it('reports a database locked by another writer as unavailable, with a fixed message and SQLite’s error only as the cause, then recovers without losing writes', async () => {
    const path = freshPath()
    const clock = createTestClock()
    const store = open(path, clock, { busyTimeout: 50 })
    const before = record(clock.now())
    await store.set(before)
    const locker = openProbe(path)
    locker.exec('BEGIN IMMEDIATE')
    try {
      const error = await store.set(record(clock.now())).catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(ServiceUnavailableError)
      // Callers see a fixed message; SQLite's own error, with its code and path, is only the cause.
      expect((error as Error).message).toBe('The session store is unavailable; try again shortly')
      expect((error as Error).message).not.toContain(path)
      expect(sqliteErrorCode((error as Error).cause)).toMatch(/^SQLITE_BUSY/)
      // Readers are not blocked by a writer in WAL mode.
      expect(await store.get(before.id)).toEqual(before)
    } finally {
      locker.exec('ROLLBACK')
      locker.close()
    }
    const after = record(clock.now())
    await store.set(after)
    expect(await store.get(after.id)).toEqual(after)
    expect(await store.get(before.id)).toEqual(before)
  })

  it('refuses to work after close with a message saying so', async () => {
    const store = open(freshPath())
    await store.close()
    await expect(store.get('x')).rejects.toThrow(/closed/)
  })

  it('explains each invalid option when created', () => {
    expect(() => createSqliteStore({ tableName: 'sessions; DROP TABLE users' })).toThrow(/tableName must be a plain SQL identifier/)
    expect(() => createSqliteStore({ path: '' })).toThrow(/path must be a file path or ':memory:'/)
    expect(() => createSqliteStore({ path: ':memory:', sweepInterval: -1 })).toThrow(/sweepInterval must be a finite number of ms, 0 or more; got -1/)
    expect(() => createSqliteStore({ path: ':memory:', sweepBatchSize: 0 })).toThrow(/sweepBatchSize must be a whole number, 1 or more; got 0/)
    expect(() => createSqliteStore({ path: ':memory:', busyTimeout: Number.NaN })).toThrow(/busyTimeout must be/)
    expect(() => createSqliteStore({ path: ':memory:', driver: 'sqlite3' as never })).toThrow(
      `driver must be one of 'better-sqlite3', 'node:sqlite', 'bun:sqlite'; got "sqlite3"`,
    )
    expect(() => createSqliteStore({ path: ':memory:', eventPollInterval: -5 })).toThrow(/eventPollInterval must be a finite number of ms, 0 or more; got -5/)
    expect(() => createSqliteStore({ path: ':memory:', eventRetention: 10 })).toThrow(/eventRetention must be a finite number of ms, 1000 or more; got 10/)
    expect(() => createSqliteStore({ path: ':memory:', eventPollInterval: 5_000, eventRetention: 8_000 })).toThrow(
      /eventPollInterval \(5000\) must be at most half of eventRetention \(8000\)/,
    )
    expect(() => createSqliteStore({ path: ':memory:', logger: {} as never })).toThrow(/logger must be a Logger/)
  })

  it('runs on the driver it is given, and says why a driver cannot run here', () => {
    const store = createSqliteStore<TestSession>({ path: ':memory:', driver: testDriver, sweepInterval: 0 })
    opened.push(store)
    expect(store.driver).toBe(testDriver)
    if (typeof (globalThis as { Bun?: unknown }).Bun === 'undefined') {
      expect(() => createSqliteStore({ path: ':memory:', driver: 'bun:sqlite' })).toThrow(/driver "bun:sqlite" runs only under Bun/)
    }
  })

  it('uses the table name it is given', async () => {
    const path = freshPath()
    const store = open(path, createTestClock(), { tableName: 'app_sessions' })
    await store.set(record(Date.UTC(2026, 0, 1)))
    const probe = openProbe(path)
    try {
      expect(probe.prepare<[], { n: number }>('SELECT count(*) AS n FROM app_sessions').get()?.n).toBe(1)
    } finally {
      probe.close()
    }
  })
})
