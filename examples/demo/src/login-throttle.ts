import type { Logger } from '@pikku/core'
import {
  createLoginThrottle,
  createMemoryThrottleBackend,
  createPostgresThrottleBackend,
  createRedisThrottleBackend,
  createSqliteThrottleBackend,
  type LoginThrottle,
  type ThrottleBackend,
} from '@pikku/login-throttle'
import type { LoginInput } from './functions.js'
import type { StoreKind } from './store.js'

/**
 * The demo's login throttle: the library's defaults (5 failed logins per account per 15 minutes,
 * 20 per client address per minute), accounts named by email.
 */
export function createDemoLoginThrottle(backend: ThrottleBackend | (() => ThrottleBackend), logger: Logger): LoginThrottle<LoginInput> {
  return createLoginThrottle<LoginInput>({ accountKey: (data) => data.email, backend, logger })
}

/** Throttle counters and what releases their connection. */
export interface DemoThrottleBackend {
  readonly backend: ThrottleBackend
  /** Settles once the first connection attempt has succeeded or failed (Redis); never rejects. */
  readonly ready?: Promise<void>
  close(): Promise<void>
}

export interface DemoThrottleBackendOptions {
  /** For sqlite: the database file (the session store's). */
  sqlitePath: string
  /** For redis. @default 'redis://127.0.0.1:6379' */
  redisUrl?: string
  /** For postgres. @default pg's PG* environment variables */
  databaseUrl?: string
  logger: Logger
}

/**
 * Counters in the store the demo keeps its sessions in, over a connection of their own: one server
 * and every local CLI command share them through the SQLite file, several servers through Redis
 * or PostgreSQL.
 */
export async function openDemoThrottleBackend(kind: StoreKind, options: DemoThrottleBackendOptions): Promise<DemoThrottleBackend> {
  switch (kind) {
    case 'memory':
      return { backend: createMemoryThrottleBackend(), close: async () => {} }
    case 'sqlite': {
      const { default: Database } = await import('better-sqlite3')
      // The server and CLI commands write to the same file; wait for each other's short writes.
      const database = new Database(options.sqlitePath, { timeout: 5_000 })
      try {
        // The backend creates its table at once; inside IMMEDIATE (write lock taken first, waiting
        // on the busy timeout) a second process doing the same at the same instant waits rather
        // than failing with "database is locked".
        const backend = database.transaction(() => createSqliteThrottleBackend({ database })).immediate()
        return { backend, close: async () => void database.close() }
      } catch (error) {
        database.close()
        throw error
      }
    }
    case 'redis': {
      const { createClient } = await import('redis')
      const client = createClient({ url: options.redisUrl ?? 'redis://127.0.0.1:6379' })
      // While Redis is unreachable, logins are refused with 503 (the throttle fails closed) and the
      // client keeps reconnecting.
      client.on('error', (error: unknown) => options.logger.warn('login throttle: Redis connection error', { error }))
      const ready = new Promise<void>((resolve) => {
        client.once('ready', () => resolve())
        client.once('error', () => resolve())
      })
      client.connect().catch((error: unknown) => options.logger.error('login throttle: cannot connect to Redis', { error }))
      return {
        backend: createRedisThrottleBackend({ client }),
        ready,
        close: async () => {
          if (client.isOpen) client.destroy()
        },
      }
    }
    case 'postgres': {
      const { default: pg } = await import('pg')
      const pool = new pg.Pool(options.databaseUrl === undefined ? { max: 4 } : { connectionString: options.databaseUrl, max: 4 })
      pool.on('error', (error: unknown) => options.logger.warn('login throttle: PostgreSQL connection error', { error }))
      return { backend: createPostgresThrottleBackend({ pool }), close: () => pool.end() }
    }
  }
}
