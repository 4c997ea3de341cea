import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type SessionEvent, type SessionRecord, silentLogger } from '@pikku/core'
import { createTestClock, type TestClock } from '@pikku/core/testing'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { createSqliteStore, type SqliteStore, type SqliteStoreOptions } from './sqlite-store.js'
import { openProbe, testDriver, testRecord, type TestSession } from './sqlite-test-driver.test-support.js'

// Several stores on one file stand for several processes sharing it (the store cannot tell the
// difference: each has its own connection). The spawned-process version is in
// sqlite-store-processes.test.ts.

const MINUTE = 60_000
const dir = mkdtempSync(join(tmpdir(), 'pikku-sqlite-events-'))
let fileCounter = 0
const freshPath = (): string => join(dir, `sessions-${++fileCounter}.db`)
const opened: SqliteStore<TestSession>[] = []

afterEach(async () => {
  await Promise.all(opened.splice(0).map((store) => store.close()))
})
afterAll(() => {
  rmSync(dir, { recursive: true, force: true })
})

function open(path: string, clock: TestClock, extra: SqliteStoreOptions = {}): SqliteStore<TestSession> {
  const store = createSqliteStore<TestSession>({ path, driver: testDriver, clock: clock.now, sweepInterval: 0, eventPollInterval: 10, logger: silentLogger, ...extra })
  opened.push(store)
  return store
}

const record = (now: number, userId = 'alice'): SessionRecord<TestSession> => testRecord(now, { userId })

function listen(store: SqliteStore<TestSession>): SessionEvent[] {
  const events: SessionEvent[] = []
  store.subscribe((event) => events.push(event))
  return events
}

describe('SQLite store events across connections to one file', () => {
  it('tells subscribers of one store about every change, logout and "log out everywhere" made through another', async () => {
    const clock = createTestClock()
    const path = freshPath()
    const a = open(path, clock)
    const b = open(path, clock)
    const seenByA = listen(a)
    const one = record(clock.now())
    const two = record(clock.now())
    const other = record(clock.now(), 'bob')
    await b.set(one)
    await b.set(two)
    await b.set(other)
    expect(await b.update(one.id, 1, { data: { userId: 'alice', role: 'admin' }, lastActiveAt: clock.now(), expiresAt: one.expiresAt })).toBe('ok')
    expect(await b.touch(other.id, clock.now(), other.expiresAt + MINUTE)).toBe(true)
    expect(await b.delete(other.id, 'cleared')).toBe(true)
    expect(await b.deleteByUser('alice')).toBe(2)

    const expected: SessionEvent[] = [
      { type: 'changed', id: one.id, userId: 'alice', version: 1, expiresAt: one.expiresAt },
      { type: 'changed', id: two.id, userId: 'alice', version: 1, expiresAt: two.expiresAt },
      { type: 'changed', id: other.id, userId: 'bob', version: 1, expiresAt: other.expiresAt },
      { type: 'changed', id: one.id, userId: 'alice', version: 2, expiresAt: one.expiresAt },
      { type: 'changed', id: other.id, userId: 'bob', version: 1, expiresAt: other.expiresAt + MINUTE },
      { type: 'deleted', id: other.id, userId: 'bob', reason: 'cleared' },
      { type: 'deleted', id: one.id, userId: 'alice', reason: 'revoked' },
      { type: 'deleted', id: two.id, userId: 'alice', reason: 'revoked' },
    ]
    // In the order they were committed, and each once.
    await expect.poll(() => seenByA, { timeout: 1_000, interval: 5 }).toEqual(expected)
  })

  it('delivers a store’s own changes to its subscribers once, at once, not again when it reads the file', async () => {
    const clock = createTestClock()
    const path = freshPath()
    const a = open(path, clock)
    const b = open(path, clock)
    const seenByA = listen(a)
    const mine = record(clock.now())
    await a.set(mine)
    expect(seenByA).toEqual([{ type: 'changed', id: mine.id, userId: 'alice', version: 1, expiresAt: mine.expiresAt }])
    // Another store's write makes A read the events table, where its own event also is.
    const theirs = record(clock.now(), 'bob')
    await b.set(theirs)
    await expect.poll(() => seenByA.length, { timeout: 1_000, interval: 5 }).toBe(2)
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(seenByA.map((event) => 'id' in event && event.id)).toEqual([mine.id, theirs.id])
  })

  it('does not replay changes made before the first subscriber subscribed', async () => {
    const clock = createTestClock()
    const path = freshPath()
    const a = open(path, clock)
    const b = open(path, clock)
    await b.set(record(clock.now()))
    await new Promise((resolve) => setTimeout(resolve, 30))
    const seenByA = listen(a)
    const later = record(clock.now())
    await b.set(later)
    await expect.poll(() => seenByA, { timeout: 1_000, interval: 5 }).toEqual([
      { type: 'changed', id: later.id, userId: 'alice', version: 1, expiresAt: later.expiresAt },
    ])
  })

  it('tells subscribers to re-check (interrupted, then resync) when events were pruned before this process read them, then carries on', async () => {
    const clock = createTestClock()
    const path = freshPath()
    const a = open(path, clock, { eventRetention: 1_000 })
    const b = open(path, clock, { eventRetention: 1_000 })
    const seenByA = listen(a)
    // Between A's looks (no timer can run until this test awaits a macrotask): B logs alice out,
    // and the event is pruned before A reads it, as if A had been stopped for longer than the retention.
    const lost = record(clock.now())
    await b.set(lost)
    await b.delete(lost.id, 'revoked')
    clock.advance(1_001)
    await b.sweep()
    await expect.poll(() => seenByA, { timeout: 1_000, interval: 5 }).toEqual([{ type: 'interrupted' }, { type: 'resync' }])
    const next = record(clock.now())
    await b.set(next)
    await expect.poll(() => seenByA.at(-1), { timeout: 1_000, interval: 5 }).toEqual({
      type: 'changed',
      id: next.id,
      userId: 'alice',
      version: 1,
      expiresAt: next.expiresAt,
    })
    expect(seenByA).toHaveLength(3)
  })

  it('says events are interrupted while the events table cannot be read, and resyncs once it can', async () => {
    const clock = createTestClock()
    const path = freshPath()
    const a = open(path, clock)
    const seenByA = listen(a)
    const probe = openProbe(path)
    try {
      // A maintenance mistake: the table other processes' events arrive through is gone.
      probe.exec('DROP TABLE pikku_sessions_events')
      await expect.poll(() => seenByA, { timeout: 1_000, interval: 5 }).toEqual([{ type: 'interrupted' }])
      // A listener that subscribes during the gap is told at once.
      const late = listen(a)
      expect(late).toEqual([{ type: 'interrupted' }])
    } finally {
      probe.close()
    }
    // Another process opening the file makes the table again; A reads it and resyncs.
    const b = open(path, clock)
    await expect.poll(() => seenByA, { timeout: 1_000, interval: 5 }).toEqual([{ type: 'interrupted' }, { type: 'resync' }])
    const after = record(clock.now())
    await b.set(after)
    await expect.poll(() => seenByA.at(-1), { timeout: 1_000, interval: 5 }).toMatchObject({ type: 'changed', id: after.id })
  })

  it('writes each change and its event in one transaction, and prunes events older than eventRetention when it sweeps', async () => {
    const clock = createTestClock()
    const path = freshPath()
    const store = open(path, clock, { eventRetention: 5_000 })
    const probe = openProbe(path)
    const count = (): number | undefined => probe.prepare<[], { n: number }>('SELECT count(*) AS n FROM pikku_sessions_events').get()?.n
    try {
      await store.set(record(clock.now()))
      await store.set(record(clock.now()))
      expect(count()).toBe(2)
      // A write refused by SQLite leaves neither the change nor its event.
      const blocked = open(path, clock, { busyTimeout: 20 })
      probe.exec('BEGIN IMMEDIATE')
      await expect(blocked.set(record(clock.now()))).rejects.toThrow(/unavailable/)
      probe.exec('ROLLBACK')
      expect(count()).toBe(2)
      clock.advance(5_001)
      await store.set(record(clock.now()))
      await store.sweep()
      expect(count()).toBe(1)
    } finally {
      probe.close()
    }
  })
})
