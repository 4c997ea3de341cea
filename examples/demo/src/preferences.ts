import type { Logger } from '@pikku/core'
import type { StoreKind } from './store.js'
import type { Preferences } from './types.js'

/**
 * Where users' preferences are kept: in the backend of the session store, field by field, so that
 * every server and CLI command sharing that store sees each other's updates and never writes back
 * a stale copy of fields it did not change.
 */
export interface DemoPreferences {
  /** The user's saved preferences (an empty object when none). */
  get(userId: string): Promise<Preferences>
  /** Writes the given fields, and only those; the others keep whatever is stored. */
  set(userId: string, fields: Preferences): Promise<void>
  close(): Promise<void>
}

export interface DemoPreferencesOptions {
  /** For sqlite: the database file (the session store's). */
  sqlitePath?: string
  /** For redis. @default 'redis://127.0.0.1:6379' */
  redisUrl?: string
  /** For postgres. @default pg's PG* environment variables */
  databaseUrl?: string
  logger: Logger
}

/** The field value as stored (JSON), and back. Only what the update schema allows is ever stored. */
const encode = (value: unknown): string => JSON.stringify(value)
const decode = (text: string): unknown => JSON.parse(text)

/** Preferences in this process only (the memory store's companion: nothing is shared or kept). */
export function createMemoryPreferences(): DemoPreferences {
  const byUser = new Map<string, Map<string, string>>()
  return {
    async get(userId) {
      return Object.fromEntries([...(byUser.get(userId) ?? [])].map(([name, value]) => [name, decode(value)])) as Preferences
    },
    async set(userId, fields) {
      let fieldsOfUser = byUser.get(userId)
      if (fieldsOfUser === undefined) byUser.set(userId, (fieldsOfUser = new Map()))
      for (const [name, value] of Object.entries(fields)) fieldsOfUser.set(name, encode(value))
    },
    async close() {},
  }
}

/** Opens the preferences kept beside the sessions of `kind`'s backend (tables made when missing). */
export async function openDemoPreferences(kind: StoreKind, options: DemoPreferencesOptions): Promise<DemoPreferences> {
  switch (kind) {
    case 'memory':
      return createMemoryPreferences()
    case 'sqlite':
      return openSqlitePreferences(options.sqlitePath ?? '.data/sessions.db')
    case 'redis':
      return openRedisPreferences(options.redisUrl ?? 'redis://127.0.0.1:6379', options.logger)
    case 'postgres':
      return openPostgresPreferences(options.databaseUrl, options.logger)
  }
}

async function openSqlitePreferences(path: string): Promise<DemoPreferences> {
  const { default: Database } = await import('better-sqlite3')
  // The session store has already made the file (WAL, private); this is one more connection to it.
  const database = new Database(path, { timeout: 5_000 })
  try {
    // IMMEDIATE takes the write lock first: a second process creating the table at the same time
    // waits for it (busy timeout) instead of failing with "database is locked".
    database
      .transaction(() =>
        database.exec(`CREATE TABLE IF NOT EXISTS demo_preferences (
          user_id TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (user_id, name)) WITHOUT ROWID`),
      )
      .immediate()
  } catch (error) {
    database.close()
    throw error
  }
  const select = database.prepare<[string], { name: string; value: string }>('SELECT name, value FROM demo_preferences WHERE user_id = ?')
  const upsert = database.prepare<[string, string, string]>(
    'INSERT INTO demo_preferences (user_id, name, value) VALUES (?, ?, ?) ON CONFLICT (user_id, name) DO UPDATE SET value = excluded.value',
  )
  const setFields = database.transaction((userId: string, fields: Preferences) => {
    for (const [name, value] of Object.entries(fields)) upsert.run(userId, name, encode(value))
  })
  return {
    async get(userId) {
      return Object.fromEntries(select.all(userId).map((row) => [row.name, decode(row.value)])) as Preferences
    },
    async set(userId, fields) {
      setFields.immediate(userId, fields)
    },
    async close() {
      database.close()
    },
  }
}

async function openRedisPreferences(url: string, logger: Logger): Promise<DemoPreferences> {
  const { createClient } = await import('redis')
  const client = createClient({ url })
  client.on('error', (error: unknown) => logger.warn('preferences: Redis connection error', { error }))
  // As the session store: Redis being down at start does not stop the demo; commands wait for the
  // reconnection (and requests answer 503 meanwhile, as their sessions cannot be read either).
  client.connect().catch((error: unknown) => logger.error('preferences: cannot connect to Redis', { error }))
  // One hash per user, one field per preference: HSET changes only the fields it is given.
  const key = (userId: string): string => `pikku-demo:preferences:${userId}`
  return {
    async get(userId) {
      const stored = await client.hGetAll(key(userId))
      return Object.fromEntries(Object.entries(stored).map(([name, value]) => [name, decode(value)])) as Preferences
    },
    async set(userId, fields) {
      const entries = Object.entries(fields)
      if (entries.length > 0) await client.hSet(key(userId), Object.fromEntries(entries.map(([name, value]) => [name, encode(value)])))
    },
    async close() {
      if (client.isOpen) client.destroy()
    },
  }
}

async function openPostgresPreferences(databaseUrl: string | undefined, logger: Logger): Promise<DemoPreferences> {
  const { default: pg } = await import('pg')
  const pool = new pg.Pool(databaseUrl === undefined ? { max: 2 } : { connectionString: databaseUrl, max: 2 })
  pool.on('error', (error: unknown) => logger.warn('preferences: PostgreSQL connection error', { error }))
  try {
    await pool.query(`CREATE TABLE IF NOT EXISTS pikku_demo_preferences (
      user_id TEXT NOT NULL, name TEXT NOT NULL, value JSONB NOT NULL, PRIMARY KEY (user_id, name))`)
  } catch (error) {
    // Two servers creating the table at the same instant: one of them gets a duplicate-type error
    // from PostgreSQL's catalog although IF NOT EXISTS was given. The table is there either way.
    const code = (error as { code?: unknown }).code
    if (code !== '23505' && code !== '42P07') {
      await pool.end()
      throw error
    }
  }
  return {
    async get(userId) {
      const result = await pool.query<{ name: string; value: unknown }>('SELECT name, value FROM pikku_demo_preferences WHERE user_id = $1', [userId])
      return Object.fromEntries(result.rows.map((row) => [row.name, row.value])) as Preferences
    },
    async set(userId, fields) {
      const entries = Object.entries(fields)
      if (entries.length === 0) return
      // One statement for all the fields: they are written together or not at all.
      await pool.query(
        `INSERT INTO pikku_demo_preferences (user_id, name, value)
         SELECT $1, key, value FROM jsonb_each($2::jsonb)
         ON CONFLICT (user_id, name) DO UPDATE SET value = excluded.value`,
        [userId, JSON.stringify(fields)],
      )
    },
    async close() {
      await pool.end()
    },
  }
}
