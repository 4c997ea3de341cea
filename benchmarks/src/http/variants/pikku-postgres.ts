import type { SessionCacheOptions } from '@pikku/core'
import { createPostgresStore } from '@pikku/session-store-postgres'
import pg from 'pg'
import type { Profile } from '../app.js'
import type { RunningVariant } from '../variant.js'
import { startPikku } from './pikku-app.js'

/** Pikku cookie sessions in a table of this run's own on the local PostgreSQL, dropped at the end. */
export function startPikkuOnPostgres(cache: SessionCacheOptions | false): RunningVariant {
  const connectionString = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test'
  // BENCH_PG_TABLE: servers of the revocation benchmark share one table (its runner drops it).
  const shared = process.env['BENCH_PG_TABLE']
  const tableName = shared ?? `pikku_bench_${process.pid}`
  // BENCH_STORE_TIMEOUT_MS: count-instructions runs the server under valgrind, 20-50 times slower.
  const timeout = Number(process.env['BENCH_STORE_TIMEOUT_MS'] ?? 0)
  const store = createPostgresStore<Profile>({
    connectionString,
    tableName,
    cache,
    ...(timeout > 0 ? { connectTimeout: timeout, queryTimeout: timeout } : {}),
  })
  return startPikku({
    store,
    credential: 'cookie',
    async onClose() {
      await store.close()
      if (shared !== undefined) return
      const admin = new pg.Pool({ connectionString, max: 1 })
      await admin.query(`DROP TABLE IF EXISTS "${tableName}", "${tableName}_schema"`)
      await admin.query(`DROP PROCEDURE IF EXISTS "${tableName}_update", "${tableName}_touch"`)
      await admin.end()
    },
  })
}
