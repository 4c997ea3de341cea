import { type SqliteConnection, type SqliteDriverName, assertSqliteDriver, defaultSqliteDriver, openSqliteConnection } from './sqlite-driver.js'

/**
 * The driver these tests run the store on: PIKKU_SQLITE_DRIVER when set (the runtime tests run
 * this package's suite again under Node 22 with 'node:sqlite' and under Bun with 'bun:sqlite'),
 * otherwise the default for this runtime.
 */
export const testDriver: SqliteDriverName = ((): SqliteDriverName => {
  const named = process.env['PIKKU_SQLITE_DRIVER']
  if (named === undefined || named === '') return defaultSqliteDriver()
  assertSqliteDriver(named)
  return named
})()

/** A second, plain connection to the file (as another tool or process would have), on the same driver. */
export function openProbe(path: string, busyTimeout = 1_000): SqliteConnection {
  return openSqliteConnection(testDriver, path, busyTimeout)
}

/** Environment for a spawned fixture process, so that it uses the same driver. */
export function fixtureEnv(extra: Record<string, string>): Record<string, string> {
  return { PATH: process.env['PATH'] ?? '', FIXTURE_DRIVER: testDriver, ...extra }
}

export { type TestSession, testSessionRecord as testRecord } from '@pikku/framework-testkit/session-records'
