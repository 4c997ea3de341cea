import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createMemoryStore, type SessionStore } from '@pikku/core'
import type { Profile } from '../http/app.js'

export interface OpenedStore {
  readonly name: string
  readonly store: SessionStore<Profile>
  /** Deletes what the benchmark wrote and closes the store. */
  close(): Promise<void>
}

export type StoreFactory = (userIds: () => Iterable<string>) => Promise<OpenedStore | { readonly name: string; readonly unavailable: string }>

const memory: StoreFactory = async () => {
  const store = createMemoryStore<Profile>()
  return { name: 'memory', store, close: async () => store.close?.() }
}

const sqlite: StoreFactory = async () => {
  const { createSqliteStore } = await import('@pikku/session-store-sqlite')
  const dir = mkdtempSync(join(tmpdir(), 'pikku-bench-store-'))
  const store = createSqliteStore<Profile>({ path: join(dir, 'sessions.db') })
  return {
    name: 'sqlite (file, WAL)',
    store,
    async close() {
      await store.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

const redis: StoreFactory = async (userIds) => {
  const { createRedisStore } = await import('@pikku/session-store-redis')
  const store = createRedisStore<Profile>({
    url: process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379',
    keyPrefix: `pikku-bench-store:${process.pid}`,
    connectTimeout: 2_000,
  })
  try {
    await store.ready()
    await store.get('probe')
  } catch (error) {
    await store.close().catch(() => undefined)
    return { name: 'redis', unavailable: (error as Error).message }
  }
  return {
    name: 'redis (local)',
    store,
    async close() {
      await deleteUsers(store, userIds())
      await store.close()
    },
  }
}

const postgres: StoreFactory = async (userIds) => {
  // Optional: the PostgreSQL store may not be built (or written) yet.
  let module: Record<string, unknown>
  try {
    // A computed specifier: the package's types may not exist yet, and this must compile anyway.
    const specifier = '@pikku/session-store-postgres'
    module = (await import(specifier)) as Record<string, unknown>
  } catch (error) {
    return { name: 'postgres', unavailable: `package not built: ${(error as Error).message.split('\n')[0]}` }
  }
  const create = module['createPostgresStore']
  if (typeof create !== 'function') return { name: 'postgres', unavailable: 'the package exports no createPostgresStore yet' }
  type PgStore = SessionStore<Profile> & { ready?: () => Promise<void>; close(): Promise<void> }
  let store: PgStore
  try {
    store = (create as (options: Record<string, unknown>) => PgStore)({
      connectionString: process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test',
      // One fixed table, emptied of the run's rows at the end, rather than a new table per run.
      tableName: 'pikku_bench_sessions',
    })
    await store.ready?.()
    await store.get('probe')
  } catch (error) {
    return { name: 'postgres', unavailable: (error as Error).message }
  }
  return {
    name: 'postgres (local)',
    store,
    async close() {
      await deleteUsers(store, userIds())
      await store.close()
    },
  }
}

export const STORE_FACTORIES: readonly StoreFactory[] = [memory, sqlite, redis, postgres]

/** Removes what the benchmark wrote to a shared server, a hundred users at a time. */
async function deleteUsers(store: SessionStore<Profile>, userIds: Iterable<string>): Promise<void> {
  const all = [...userIds]
  for (let i = 0; i < all.length; i += 100) await Promise.all(all.slice(i, i + 100).map((userId) => store.deleteByUser(userId)))
}
