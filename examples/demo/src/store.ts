import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { createMemoryStore, type Logger, type SessionStore } from '@pikku/core'
import { createPostgresStore } from '@pikku/session-store-postgres'
import { createRedisStore } from '@pikku/session-store-redis'
import { createSqliteStore } from '@pikku/session-store-sqlite'
import type { UserSession } from './types.js'

export const STORE_KINDS = ['memory', 'sqlite', 'redis', 'postgres'] as const
export type StoreKind = (typeof STORE_KINDS)[number]

export interface DemoStoreOptions {
  /** @default 'sqlite' */
  kind?: string
  /** Folder for the SQLite file. @default '.data' */
  dataDir?: string
  /** For redis. @default 'redis://127.0.0.1:6379' */
  redisUrl?: string
  /** For postgres. @default pg's PG* environment variables */
  databaseUrl?: string
  logger: Logger
}

/** The demo's session store, chosen by SESSION_STORE (or --store); SQLite by default. */
export function createDemoStore(options: DemoStoreOptions): { kind: StoreKind; store: SessionStore<UserSession> } {
  const kind = (options.kind ?? 'sqlite') as StoreKind
  switch (kind) {
    case 'memory':
      return { kind, store: createMemoryStore<UserSession>() }
    case 'sqlite': {
      const dataDir = options.dataDir ?? '.data'
      mkdirSync(dataDir, { recursive: true, mode: 0o700 })
      return { kind, store: createSqliteStore<UserSession>({ path: join(dataDir, 'sessions.db') }) }
    }
    case 'redis':
      return { kind, store: createRedisStore<UserSession>({ url: options.redisUrl ?? 'redis://127.0.0.1:6379', logger: options.logger }) }
    case 'postgres':
      return {
        kind,
        store: createPostgresStore<UserSession>({ ...(options.databaseUrl === undefined ? {} : { connectionString: options.databaseUrl }), logger: options.logger }),
      }
    default:
      throw new Error(`SESSION_STORE must be one of ${STORE_KINDS.join(', ')}; got ${JSON.stringify(options.kind)}`)
  }
}
