import { createMemoryStore, type Logger, type SessionStore } from '@pikku/core'
import type { UserSession } from './types.js'

export const STORE_KINDS = ['memory', 'sqlite', 'redis', 'postgres'] as const
export type StoreKind = (typeof STORE_KINDS)[number]

/** The store kind named by SESSION_STORE (or --store); SQLite when none is named. */
export function parseStoreKind(kind: string | undefined): StoreKind {
  const chosen = kind ?? 'sqlite'
  if (!(STORE_KINDS as readonly string[]).includes(chosen)) {
    throw new Error(`SESSION_STORE must be one of ${STORE_KINDS.join(', ')}; got ${JSON.stringify(kind)}`)
  }
  return chosen as StoreKind
}

export interface DemoStoreOptions {
  /** For sqlite: the database file. */
  sqlitePath: string
  /** For sqlite: 0 leaves expired rows to the servers (a CLI process lives for one command). @default 60_000 */
  sweepInterval?: number
  /** For redis. @default 'redis://127.0.0.1:6379' */
  redisUrl?: string
  /** For postgres. @default pg's PG* environment variables */
  databaseUrl?: string
  logger: Logger
}

/**
 * The demo's session store of `kind`. Only that store's package is loaded, so a SQLite demo does
 * not pay for loading the Redis and PostgreSQL clients at every start.
 */
export async function openDemoStore(kind: StoreKind, options: DemoStoreOptions): Promise<SessionStore<UserSession>> {
  switch (kind) {
    case 'memory':
      return createMemoryStore<UserSession>()
    case 'sqlite': {
      const { createSqliteStore } = await import('@pikku/session-store-sqlite')
      // Made private (0700 directory, 0600 file) by the store when missing.
      return createSqliteStore<UserSession>({ path: options.sqlitePath, sweepInterval: options.sweepInterval, logger: options.logger })
    }
    case 'redis': {
      const { createRedisStore } = await import('@pikku/session-store-redis')
      return createRedisStore<UserSession>({ url: options.redisUrl ?? 'redis://127.0.0.1:6379', logger: options.logger })
    }
    case 'postgres': {
      const { createPostgresStore } = await import('@pikku/session-store-postgres')
      return createPostgresStore<UserSession>({ ...(options.databaseUrl === undefined ? {} : { connectionString: options.databaseUrl }), logger: options.logger })
    }
  }
}
