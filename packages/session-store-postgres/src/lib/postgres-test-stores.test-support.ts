import { randomBytes } from 'node:crypto'
import { silentLogger } from '@pikku/core'
import type { TestClock } from '@pikku/core/testing'
import type { TestSession } from '@pikku/framework-testkit/session-records'
import { startTcpFaultProxy, type TcpFaultProxy } from '@pikku/framework-testkit/tcp-fault-proxy'
import { databaseUrl } from '@pikku/framework-testkit/test-services'
import pg from 'pg'
import { afterAll, afterEach } from 'vitest'
import { createPostgresStore, type PostgresStore, type PostgresStoreOptions } from './postgres-store.js'

// The setup the PostgreSQL store's integration tests share: stores on tables of their own, dropped
// after each test, and session records to put in them.

export { type TestSession, testSessionRecord as record } from '@pikku/framework-testkit/session-records'
export const MINUTE = 60_000

export interface TestPostgresStores {
  /** A pool of its own, for looking at the tables. */
  readonly admin: pg.Pool
  /** A table name of this test; the table, its schema table and its procedures are dropped after the test. */
  freshTable(): string
  /** A store with short timeouts and no sweep on `tableName` (a fresh one by default), closed after the test. */
  open(clock: TestClock, tableName?: string, extra?: PostgresStoreOptions): PostgresStore<TestSession>
  /** Closes a store opened some other way after the test, with the rest. */
  track(store: PostgresStore<TestSession>): PostgresStore<TestSession>
  /** Runs `cleanup` after the test, once its stores are closed (a proxy they went through). */
  defer(cleanup: () => Promise<unknown>): void
}

/**
 * Registers the file's hooks when PostgreSQL is `available` (call it at the top level of the
 * file), and hands out the stores its tests use.
 */
export function useTestPostgresStores(available: boolean): TestPostgresStores {
  const admin = new pg.Pool({ connectionString: databaseUrl, max: 2 })
  admin.on('error', () => undefined)
  const tables: string[] = []
  const opened: PostgresStore<TestSession>[] = []
  const deferred: (() => Promise<unknown>)[] = []

  if (available) {
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((store) => store.close()))
      await Promise.all(deferred.splice(0).map((cleanup) => cleanup()))
      await Promise.all(
        tables.splice(0).map((table) =>
          admin.query(`DROP TABLE IF EXISTS "${table}", "${table}_schema"; DROP PROCEDURE IF EXISTS "${table}_update", "${table}_touch"`),
        ),
      )
    })
    afterAll(async () => {
      await admin.end()
    })
  }

  const stores: TestPostgresStores = {
    admin,
    freshTable() {
      const table = `pikku_test_${randomBytes(6).toString('hex')}`
      tables.push(table)
      return table
    },
    open(clock, tableName = stores.freshTable(), extra = {}) {
      const store = createPostgresStore<TestSession>({
        connectionString: databaseUrl,
        tableName,
        clock: clock.now,
        logger: silentLogger,
        sweepInterval: 0,
        poolSize: 4,
        connectTimeout: 1_000,
        queryTimeout: 2_000,
        ...extra,
      })
      return stores.track(store)
    },
    track(store) {
      opened.push(store)
      return store
    },
    defer(cleanup) {
      deferred.push(cleanup)
    },
  }
  return stores
}

/** A fault proxy in front of the test database, and the connection string that reaches it through the proxy. */
export async function startPostgresProxy(): Promise<{ proxy: TcpFaultProxy; url: string }> {
  const target = new URL(databaseUrl)
  const proxy = await startTcpFaultProxy({ host: target.hostname, port: Number(target.port || 5432) })
  const url = new URL(databaseUrl)
  url.hostname = '127.0.0.1'
  url.port = String(proxy.port)
  return { proxy, url: url.toString() }
}
