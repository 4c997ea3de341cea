import { type CoreUserSession, type SessionRecord } from '@pikku/core'
import { generateSessionToken, hashSessionToken } from '@pikku/core/store'
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

/** The session shape these tests store: any JSON besides the user id. */
export type TestSession = CoreUserSession & Record<string, unknown>

/** A new live session of `alice` (or `overrides.userId`) made at `now`, lasting 30 minutes. */
export function testRecord(now: number, overrides: Partial<SessionRecord<TestSession>> = {}): SessionRecord<TestSession> {
  const userId = overrides.userId ?? 'alice'
  return {
    id: hashSessionToken(generateSessionToken()),
    userId,
    data: { userId },
    version: 1,
    createdAt: now,
    lastActiveAt: now,
    expiresAt: now + 30 * 60_000,
    ...overrides,
  }
}
