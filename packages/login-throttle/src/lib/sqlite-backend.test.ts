import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createSqliteThrottleBackend } from './sqlite-backend.js'
import { describeThrottleBackend } from './throttle-backend-conformance.test-support.js'

// rate-limiter-flexible compares windows with Date.now(), so the clock is moved by faking Date
// (timers stay real).
describeThrottleBackend('SQLite', {
  movableClock: true,
  setup: async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() })
    const dir = mkdtempSync(join(tmpdir(), 'pikku-throttle-sqlite-'))
    const database = new Database(join(dir, 'throttle.db'))
    return {
      backend: createSqliteThrottleBackend({ database }),
      advance: (ms) => vi.setSystemTime(Date.now() + ms),
      cleanup: async () => {
        vi.useRealTimers()
        database.close()
        rmSync(dir, { recursive: true, force: true })
      },
    }
  },
})

describe('SQLite throttle backend', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pikku-throttle-sqlite-'))
  })
  afterEach(() => {
    vi.useRealTimers()
    rmSync(dir, { recursive: true, force: true })
  })

  it('connections to one file share the counts, as a server and local CLI commands do', async () => {
    const server = new Database(join(dir, 'app.db'))
    const cli = new Database(join(dir, 'app.db'))
    try {
      const fromServer = createSqliteThrottleBackend({ database: server }).counter('account', 900)
      const fromCli = createSqliteThrottleBackend({ database: cli }).counter('account', 900)
      await fromServer.hit('alice')
      await fromCli.hit('alice')
      expect((await fromServer.hit('alice')).count).toBe(3)
    } finally {
      server.close()
      cli.close()
    }
  })

  it('deletes rows whose window ended, at most once per sweepInterval, from the request path', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() })
    const database = new Database(join(dir, 'app.db'))
    try {
      const counter = createSqliteThrottleBackend({ database, tableName: 'throttle', sweepInterval: 300_000 }).counter('account', 60)
      await counter.hit('alice')
      await counter.hit('bob')
      const rows = (): number => (database.prepare('SELECT count(*) AS n FROM throttle').get() as { n: number }).n
      expect(rows()).toBe(2)
      vi.setSystemTime(Date.now() + 301_000)
      await counter.hit('carol')
      await vi.waitFor(() => expect(rows()).toBe(1))
    } finally {
      database.close()
    }
  })

  it('refuses a table name that is not a plain identifier, and a database that is not better-sqlite3', () => {
    const database = new Database(':memory:')
    try {
      expect(() => createSqliteThrottleBackend({ database, tableName: 'x; DROP TABLE y' })).toThrow('tableName must be a plain identifier')
      expect(() => createSqliteThrottleBackend({ database: {} as never })).toThrow('createSqliteThrottleBackend needs { database }: a better-sqlite3 Database')
      expect(() => createSqliteThrottleBackend({ database, sweepInterval: -1 })).toThrow('sweepInterval must be 0 or a whole number of ms; got -1')
    } finally {
      database.close()
    }
  })
})
