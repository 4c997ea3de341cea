import { type SessionEvent, silentLogger } from '@pikku/core'
import { createTestClock } from '@pikku/core/testing'
import { describeSessionStoreConformance } from '@pikku/session-store-testkit'
import pg from 'pg'
import { describe, expect, it, vi } from 'vitest'
import { postgresSessionSchema } from './postgres-schema.js'
import { createPostgresStore, type PostgresStore } from './postgres-store.js'
import { databaseUrl, postgresAvailable } from '@pikku/framework-testkit/test-services'
import { MINUTE, record, type TestSession, useTestPostgresStores } from './postgres-test-stores.test-support.js'

const available = await postgresAvailable()
const { admin, freshTable, open, track } = useTestPostgresStores(available)

/** Two servers on one fresh table; B records every event it hears, and is listening already. */
async function twoServers() {
  const clock = createTestClock()
  const table = freshTable()
  const serverA = open(clock, table)
  const serverB = open(clock, table)
  const seenByB: SessionEvent[] = []
  serverB.subscribe((event) => seenByB.push(event))
  await serverB.ready()
  return { clock, table, serverA, serverB, seenByB }
}

describe.skipIf(!available)('PostgreSQL store against a real server', () => {
  describeSessionStoreConformance('PostgreSQL store', {
    create: (clock) => open(clock),
    destroy: async (store) => {
      await store.close?.()
    },
    eventDelay: 20,
    sweep: (store) => (store as PostgresStore<TestSession>).sweep(),
  })

  it('ships an idempotent migration that concurrent starts apply once', async () => {
    const table = freshTable()
    const clock = createTestClock()
    const stores = Array.from({ length: 4 }, () => open(clock, table))
    await Promise.all(stores.map((store) => store.migrate()))
    await stores[0]!.migrate()
    const { rows } = await admin.query(`SELECT version FROM "${table}_schema" ORDER BY version`)
    expect(rows).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }])
    const indexes = await admin.query<{ indexdef: string }>('SELECT indexdef FROM pg_indexes WHERE tablename = $1 ORDER BY indexname', [table])
    // No index holds expires_at itself, which every renewal changes (HOT updates, decision 037).
    expect(indexes.rows.map((row) => row.indexdef.replace(/^.* USING /, ''))).toEqual(['btree (user_id)', 'btree (expires_bucket)', 'btree (id)'])
  })

  it('leaves the schema alone with migrate: false, and works on the schema applied by hand', async () => {
    const table = freshTable()
    const clock = createTestClock()
    const store = open(clock, table, { migrate: false })
    await store.ready()
    const exists = await admin.query('SELECT to_regclass($1) AS found', [table])
    expect(exists.rows[0].found).toBeNull()
    await admin.query(postgresSessionSchema(table))
    const stored = record(clock.now())
    await store.set(stored)
    expect(await store.get(stored.id)).toEqual(stored)
  })

  it('sweeps expired rows in batches, announces them as expired and keeps live ones', async () => {
    const clock = createTestClock()
    const table = freshTable()
    const store = open(clock, table, { sweepBatchSize: 3 })
    const expiring = Array.from({ length: 10 }, () => record(clock.now(), { expiresAt: clock.now() + MINUTE }))
    const live = record(clock.now(), { expiresAt: clock.now() + 60 * MINUTE })
    for (const r of [...expiring, live]) await store.set(r)
    const events: SessionEvent[] = []
    store.subscribe((event) => events.push(event))
    clock.advance(MINUTE)
    expect(await store.sweep()).toBe(10)
    expect(events.filter((e) => e.type === 'deleted' && e.reason === 'expired')).toHaveLength(10)
    const { rows } = await admin.query(`SELECT id FROM "${table}"`)
    expect(rows).toEqual([{ id: live.id }])
    expect(await store.sweep()).toBe(0)
  })

  it('sweeps on its timer without being asked', async () => {
    const table = freshTable()
    const store = createPostgresStore<TestSession>({ connectionString: databaseUrl, tableName: table, logger: silentLogger, sweepInterval: 20 })
    track(store)
    // Real time here: the row expired a minute ago, so the first tick removes it.
    await store.set(record(Date.now() - 2 * MINUTE, { expiresAt: Date.now() - MINUTE }))
    const count = async (): Promise<number> => Number((await admin.query(`SELECT count(*) AS n FROM "${table}"`)).rows[0].n)
    await expect.poll(count, { timeout: 2_000, interval: 20 }).toBe(0)
  })

  it('refuses an update that changes the owner', async () => {
    const clock = createTestClock()
    const store = open(clock)
    const stored = record(clock.now())
    await store.set(stored)
    await expect(store.update(stored.id, 1, { data: { userId: 'mallory' }, lastActiveAt: clock.now(), expiresAt: stored.expiresAt })).rejects.toThrow(
      /cannot change userId/,
    )
    expect((await store.get(stored.id))?.userId).toBe('alice')
  })

  it('tells the previous owner when a session id is stored again for another user', async () => {
    const clock = createTestClock()
    const store = open(clock)
    const events: SessionEvent[] = []
    store.subscribe((event) => events.push(event))
    const first = record(clock.now(), { userId: 'alice' })
    await store.set(first)
    await store.set({ ...first, userId: 'bob', data: { userId: 'bob' } })
    expect(await store.listByUser('alice')).toEqual([])
    expect(events).toContainEqual({ type: 'deleted', id: first.id, userId: 'alice', reason: 'cleared' })
  })

  it('delivers a logout on one server to subscribers on another within a second', async () => {
    const { clock, serverA, serverB, seenByB } = await twoServers()
    const stored = record(clock.now())
    await serverA.set(stored)
    const started = Date.now()
    await serverA.delete(stored.id, 'cleared')
    await expect
      .poll(() => seenByB, { timeout: 1_000, interval: 5 })
      .toContainEqual({ type: 'deleted', id: stored.id, userId: 'alice', reason: 'cleared' })
    expect(Date.now() - started).toBeLessThan(1_000)
    // Each event arrives once: a server does not hear its own notifications back.
    const seenByA: SessionEvent[] = []
    serverA.subscribe((event) => seenByA.push(event))
    await serverA.ready()
    const other = record(clock.now(), { userId: 'bob' })
    await serverA.set(other)
    await serverA.deleteByUser('bob')
    await expect.poll(() => seenByB.filter((e) => 'id' in e && e.id === other.id), { timeout: 1_000, interval: 5 }).toHaveLength(2)
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(seenByA.filter((e) => 'id' in e && e.id === other.id)).toEqual([
      { type: 'changed', id: other.id, userId: 'bob', version: 1, expiresAt: other.expiresAt },
      { type: 'deleted', id: other.id, userId: 'bob', reason: 'revoked' },
    ])
  })

  it('writes a versioned update in one round trip that also notifies other servers, and a refused one notifies nobody', async () => {
    const { clock, serverA, serverB, seenByB } = await twoServers()
    const stored = record(clock.now())
    await serverA.set(stored)
    await serverA.ready()
    // Every statement the stores send goes through a pool's query().
    const queries = vi.spyOn(pg.Pool.prototype, 'query')
    const change = (theme: string, expiresAt: number) => ({ data: { userId: 'alice', theme }, lastActiveAt: clock.now(), expiresAt })
    try {
      expect(await serverA.update(stored.id, 1, change('dark', stored.expiresAt + MINUTE))).toBe('ok')
      // The compare-and-set and its NOTIFY are one CALL (decision 037).
      expect(queries).toHaveBeenCalledTimes(1)
      expect((queries.mock.calls[0]![0] as unknown as { text: string }).text).toMatch(/^CALL /)
      // A refused write: one round trip too, and it sends nothing (its event would carry version 2).
      expect(await serverA.update(stored.id, 1, change('light', stored.expiresAt + 2 * MINUTE))).toBe('conflict')
      expect(queries).toHaveBeenCalledTimes(2)
      expect(await serverA.update(stored.id, 2, change('blue', stored.expiresAt + 3 * MINUTE))).toBe('ok')
      expect(queries).toHaveBeenCalledTimes(3)
    } finally {
      queries.mockRestore()
    }
    // Notifications arrive in commit order: once version 3's has, a wrongly sent one would have too.
    await expect.poll(() => seenByB.filter((e) => e.type === 'changed' && e.version === 3), { timeout: 1_000, interval: 5 }).toHaveLength(1)
    expect(seenByB).toEqual([
      { type: 'changed', id: stored.id, userId: 'alice', version: 1, expiresAt: stored.expiresAt },
      { type: 'changed', id: stored.id, userId: 'alice', version: 2, expiresAt: stored.expiresAt + MINUTE },
      { type: 'changed', id: stored.id, userId: 'alice', version: 3, expiresAt: stored.expiresAt + 3 * MINUTE },
    ])
    expect((await serverB.get(stored.id))?.data).toEqual({ userId: 'alice', theme: 'blue' })
  })

  it('renews a session in one round trip and tells other servers its user and version', async () => {
    const { clock, serverA, serverB, seenByB } = await twoServers()
    // A user id JSON has to escape: the procedure writes it into the event with to_json.
    const stored = record(clock.now(), { userId: 'al"ice\\ \u00e9\n', data: { userId: 'al"ice\\ \u00e9\n' } })
    await serverA.set(stored)
    await serverA.update(stored.id, 1, { data: stored.data, lastActiveAt: clock.now(), expiresAt: stored.expiresAt })
    await serverA.ready()
    const queries = vi.spyOn(pg.Pool.prototype, 'query')
    try {
      expect(await serverA.touch(stored.id, clock.now() + 1, stored.expiresAt + MINUTE)).toBe(true)
      expect(queries).toHaveBeenCalledTimes(1)
      expect(await serverA.touch('no-such-session', clock.now() + 1, stored.expiresAt + MINUTE)).toBe(false)
      expect(queries).toHaveBeenCalledTimes(2)
    } finally {
      queries.mockRestore()
    }
    const renewed = { type: 'changed', id: stored.id, userId: stored.userId, version: 2, expiresAt: stored.expiresAt + MINUTE }
    await expect.poll(() => seenByB, { timeout: 1_000, interval: 5 }).toContainEqual(renewed)
    expect(seenByB.at(-1)).toEqual(renewed)
    expect((await serverB.get(stored.id))?.expiresAt).toBe(stored.expiresAt + MINUTE)
  })

  it('keeps a write whose event is too large for NOTIFY, and logs the event it could not send', async () => {
    const clock = createTestClock()
    const warnings: unknown[] = []
    const logger = { ...silentLogger, warn: (message: string, meta?: unknown) => warnings.push({ message, meta }) }
    const store = open(clock, undefined, { logger })
    // pg_notify refuses payloads of 8000 bytes or more, after the write has committed.
    const userId = 'u'.repeat(8_000)
    const stored = record(clock.now(), { userId, data: { userId } })
    await store.set(stored)
    warnings.length = 0
    expect(await store.update(stored.id, 1, { data: { userId, theme: 'dark' }, lastActiveAt: clock.now(), expiresAt: stored.expiresAt })).toBe('ok')
    expect(await store.touch(stored.id, clock.now(), stored.expiresAt + MINUTE)).toBe(true)
    expect((await store.get(stored.id))?.data).toEqual({ userId, theme: 'dark' })
    expect(warnings).toEqual([
      { message: 'PostgreSQL session store: could not send session events', meta: { events: [expect.objectContaining({ type: 'changed', version: 2 })] } },
      { message: 'PostgreSQL session store: could not send session events', meta: { events: [expect.objectContaining({ type: 'changed', version: 2, expiresAt: stored.expiresAt + MINUTE })] } },
    ])
  })

  it('ignores malformed notifications on its channel', async () => {
    const clock = createTestClock()
    const table = freshTable()
    const store = open(clock, table)
    const events: SessionEvent[] = []
    store.subscribe((event) => events.push(event))
    await store.ready()
    const channel = `${table}_events`
    await admin.query('SELECT pg_notify($1, $2)', [channel, 'not json'])
    await admin.query('SELECT pg_notify($1, $2)', [channel, JSON.stringify({ origin: 'x', event: { type: 'bogus' } })])
    await admin.query('SELECT pg_notify($1, $2)', [channel, JSON.stringify({ origin: 'x', event: { type: 'deleted', id: 'i', userId: 'u', reason: 'revoked' } })])
    await expect.poll(() => events, { timeout: 1_000, interval: 5 }).toHaveLength(1)
  })
})
