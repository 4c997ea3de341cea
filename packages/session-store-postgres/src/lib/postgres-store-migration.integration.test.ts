import { createTestClock } from '@pikku/core/testing'
import { postgresAvailable } from '@pikku/framework-testkit/test-services'
import pg from 'pg'
import { describe, expect, it, vi } from 'vitest'
import { EXPIRY_BUCKET_MS, postgresSessionSchema } from './postgres-schema.js'
import { MINUTE, record, type TestSession, useTestPostgresStores } from './postgres-test-stores.test-support.js'
import type { SessionRecord } from '@pikku/core'

const available = await postgresAvailable()
const { admin, freshTable, open } = useTestPostgresStores(available)

/** The schema script as it was before step 3 (steps 1 and 2, step 1 with its indexes on expires_at). */
function scriptBeforeStep3(table: string): string {
  return `CREATE TABLE IF NOT EXISTS "${table}" (
  id text PRIMARY KEY,
  user_id text NOT NULL,
  data text NOT NULL,
  version integer NOT NULL,
  created_at bigint NOT NULL,
  last_active_at bigint NOT NULL,
  expires_at bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS "${table}_user_id" ON "${table}" (user_id, expires_at);
CREATE INDEX IF NOT EXISTS "${table}_expires_at" ON "${table}" (expires_at);
ALTER TABLE "${table}" ADD COLUMN IF NOT EXISTS metadata text;
`
}

/** A table as the code before step 3 migrated it, recorded in its version table. */
async function previousReleaseTable(table: string): Promise<void> {
  await admin.query(scriptBeforeStep3(table))
  await admin.query(`CREATE TABLE "${table}_schema" (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`)
  await admin.query(`INSERT INTO "${table}_schema" (version) VALUES (1), (2)`)
}

/** Writes a row the way set() did before step 3 (no expires_bucket: it did not know it). */
async function insertAsPreviousRelease(table: string, stored: SessionRecord<TestSession>): Promise<void> {
  await admin.query(
    `INSERT INTO "${table}" (id, user_id, data, version, created_at, last_active_at, expires_at, metadata)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id, data = excluded.data, version = excluded.version,
       created_at = excluded.created_at, last_active_at = excluded.last_active_at, expires_at = excluded.expires_at, metadata = excluded.metadata`,
    [stored.id, stored.userId, JSON.stringify(stored.data), stored.version, stored.createdAt, stored.lastActiveAt, stored.expiresAt, null],
  )
}

/** The table's row updates and HOT updates, once every update counted so far has been reported. */
async function updatesOf(table: string, expected: number): Promise<{ updates: number; hot: number }> {
  const read = async (): Promise<{ updates: number; hot: number }> => {
    const { rows } = await admin.query<{ n_tup_upd: string; n_tup_hot_upd: string }>(
      'SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relid = $1::regclass',
      [table],
    )
    return { updates: Number(rows[0]!.n_tup_upd), hot: Number(rows[0]!.n_tup_hot_upd) }
  }
  // A backend reports its counters when it exits (the stores are closed first) or when idle.
  await expect.poll(async () => (await read()).updates, { timeout: 15_000, interval: 50 }).toBe(expected)
  return read()
}

describe.skipIf(!available)('PostgreSQL schema step 3 on tables made before it', () => {
  it('upgrades a table with rows: they keep working, renewals become HOT updates, expired rows are still swept', async () => {
    const clock = createTestClock()
    const table = freshTable()
    await previousReleaseTable(table)
    // 40 sessions expiring 30 minutes from now (the start of a bucket), and one expired.
    const live = Array.from({ length: 40 }, (_, i) => record(clock.now(), { userId: `user-${i % 4}`, data: { userId: `user-${i % 4}`, n: i } }))
    const expired = record(clock.now() - 60 * MINUTE, { expiresAt: clock.now() - MINUTE })
    for (const stored of [...live, expired]) await insertAsPreviousRelease(table, stored)
    // Three servers of this release start at once: the advisory lock lets one of them upgrade.
    const [store, ...others] = [open(clock, table), open(clock, table), open(clock, table)] as const
    await Promise.all([store, ...others].map((server) => server.migrate()))
    expect((await admin.query(`SELECT version FROM "${table}_schema" ORDER BY version`)).rows).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }])
    const { rows: options } = await admin.query<{ reloptions: string[] }>('SELECT reloptions FROM pg_class WHERE oid = $1::regclass', [table])
    expect(options[0]?.reloptions).toEqual(['fillfactor=80'])
    const { rows: indexes } = await admin.query<{ indexname: string }>('SELECT indexname FROM pg_indexes WHERE tablename = $1 ORDER BY indexname', [table])
    expect(indexes.map((row) => row.indexname)).toEqual([`${table}_by_user`, `${table}_expiry`, `${table}_pkey`])
    // The rows are what they were, the generated bucket filled in for each.
    for (const stored of live) expect(await store.get(stored.id)).toEqual(stored)
    const { rows: buckets } = await admin.query<{ wrong: string }>(`SELECT count(*) AS wrong FROM "${table}" WHERE expires_bucket IS DISTINCT FROM expires_at / $1`, [EXPIRY_BUCKET_MS])
    expect(buckets[0]?.wrong).toBe('0')
    expect((await store.listByUser('user-1')).map((session) => session.id).sort()).toEqual(live.filter((_, i) => i % 4 === 1).map((session) => session.id).sort())
    // Requests renew within the bucket: six versioned updates and four touches, all HOT.
    for (const [i, stored] of live.slice(0, 6).entries()) {
      expect(await store.update(stored.id, 1, { data: { ...stored.data, theme: 'dark' }, lastActiveAt: clock.now() + i, expiresAt: stored.expiresAt + 1_000 + i })).toBe('ok')
    }
    for (const stored of live.slice(6, 10)) expect(await store.touch(stored.id, clock.now() + 1, stored.expiresAt + 2_000)).toBe(true)
    expect((await store.get(live[0]!.id))?.data).toEqual({ ...live[0]!.data, theme: 'dark' })
    expect(await store.sweep()).toBe(1)
    expect(await store.get(expired.id)).toBeUndefined()
    await Promise.all([store, ...others].map((server) => server.close()))
    expect(await updatesOf(table, 10)).toEqual({ updates: 10, hot: 10 })
  })

  it('leaves a renewal that crosses into the next expiry bucket a plain update, and sweeps by the bucket it moved to', async () => {
    const clock = createTestClock()
    const table = freshTable()
    const store = open(clock, table)
    const stored = record(clock.now())
    await store.set(stored)
    expect(await store.touch(stored.id, clock.now(), stored.expiresAt + EXPIRY_BUCKET_MS)).toBe(true)
    clock.advance(30 * MINUTE)
    // Past its first expiry but not its renewed one: not swept.
    expect(await store.sweep()).toBe(0)
    clock.advance(EXPIRY_BUCKET_MS)
    expect(await store.sweep()).toBe(1)
    await store.close()
    // The renewal changed the indexed bucket, so PostgreSQL had to write new index entries.
    expect(await updatesOf(table, 1)).toEqual({ updates: 1, hot: 0 })
  })

  it('keeps serving a server of the code before step 3, whose writes keep the expiry bucket right', async () => {
    const clock = createTestClock()
    const table = freshTable()
    const store = open(clock, table)
    await store.migrate()
    const stored = record(clock.now())
    await insertAsPreviousRelease(table, stored)
    // The versioned update as the code before step 3 sent it (decision 036).
    const { rows } = await admin.query<{ written: string }>(
      `WITH previous AS (SELECT user_id, version, expires_at FROM "${table}" WHERE id = $4),
       written AS (
         UPDATE "${table}" SET data = $1, version = version + 1, last_active_at = $2, expires_at = $3, metadata = COALESCE($8, metadata)
         WHERE id = $4 AND version = $5 AND expires_at > $6 AND user_id = $7 RETURNING version
       )
       SELECT (SELECT count(*) FROM written) AS written, previous.user_id, previous.version, previous.expires_at
       FROM (SELECT 1) AS one LEFT JOIN previous ON true`,
      [JSON.stringify({ userId: 'alice', theme: 'old' }), clock.now(), clock.now() + 2 * MINUTE, stored.id, 1, clock.now(), 'alice', null],
    )
    expect(rows[0]?.written).toBe('1')
    const { rows: bucket } = await admin.query(`SELECT expires_bucket FROM "${table}" WHERE id = $1`, [stored.id])
    expect(bucket).toEqual([{ expires_bucket: String(Math.floor((clock.now() + 2 * MINUTE) / EXPIRY_BUCKET_MS)) }])
    expect(await store.get(stored.id)).toEqual({ ...stored, data: { userId: 'alice', theme: 'old' }, version: 2, expiresAt: clock.now() + 2 * MINUTE })
    // This release's update on the row it wrote, and its sweep.
    expect(await store.update(stored.id, 2, { data: { userId: 'alice', theme: 'new' }, lastActiveAt: clock.now(), expiresAt: clock.now() + 3 * MINUTE })).toBe('ok')
    clock.advance(4 * MINUTE)
    const swept = await admin.query(
      `DELETE FROM "${table}" WHERE id IN (SELECT id FROM "${table}" WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING id`,
      [clock.now(), 1_000],
    )
    expect(swept.rows).toEqual([{ id: stored.id }])
  })

  it('ships the procedures in postgresSessionSchema(), whose script upgrades a table applied by hand from an earlier one', async () => {
    const clock = createTestClock()
    const table = freshTable()
    // The earlier script (steps 1 and 2), then this release's, twice: every statement is idempotent.
    await admin.query(scriptBeforeStep3(table))
    const stored = record(clock.now())
    await insertAsPreviousRelease(table, stored)
    const script = postgresSessionSchema(table)
    expect(script).toContain(`CREATE OR REPLACE PROCEDURE "${table}_update"(`)
    await admin.query(script)
    await admin.query(script)
    const store = open(clock, table, { migrate: false })
    expect(await store.get(stored.id)).toEqual(stored)
    await store.ready()
    const queries = vi.spyOn(pg.Pool.prototype, 'query')
    try {
      expect(await store.update(stored.id, 1, { data: { userId: 'alice', theme: 'dark' }, lastActiveAt: clock.now(), expiresAt: stored.expiresAt + 1 })).toBe('ok')
      expect(queries).toHaveBeenCalledTimes(1)
    } finally {
      queries.mockRestore()
    }
    expect(await store.touch(stored.id, clock.now(), stored.expiresAt + 2)).toBe(true)
    const indexes = await admin.query<{ indexdef: string }>('SELECT indexdef FROM pg_indexes WHERE tablename = $1 ORDER BY indexname', [table])
    expect(indexes.rows.map((row) => row.indexdef.replace(/^.* USING /, ''))).toEqual(['btree (user_id)', 'btree (expires_bucket)', 'btree (id)'])
    await store.close()
    expect(await updatesOf(table, 2)).toEqual({ updates: 2, hot: 2 })
  })

  it('tells a deployment with migrate: false on a table made before step 3 to apply the new schema', async () => {
    const clock = createTestClock()
    const table = freshTable()
    await previousReleaseTable(table)
    const stored = record(clock.now())
    await insertAsPreviousRelease(table, stored)
    const store = open(clock, table, { migrate: false })
    expect(await store.get(stored.id)).toEqual(stored)
    await expect(store.update(stored.id, 1, { data: stored.data, lastActiveAt: clock.now(), expiresAt: stored.expiresAt })).rejects.toThrow(
      /needs schema step 3.*apply postgresSessionSchema\(\) again/,
    )
  })

  it('keeps reading after a later schema step adds a column under its prepared statements', async () => {
    const clock = createTestClock()
    const table = freshTable()
    const store = open(clock, table, { poolSize: 1 })
    const stored = record(clock.now())
    await store.set(stored)
    // Prepared on the store's one connection, before the column exists.
    expect(await store.get(stored.id)).toEqual(stored)
    await admin.query(`ALTER TABLE "${table}" ADD COLUMN added_later text`)
    expect(await store.get(stored.id)).toEqual(stored)
    expect(await store.update(stored.id, 1, { data: stored.data, lastActiveAt: clock.now(), expiresAt: stored.expiresAt })).toBe('ok')
    expect(await store.listByUser('alice')).toEqual([{ ...stored, version: 2 }])
  })
})
