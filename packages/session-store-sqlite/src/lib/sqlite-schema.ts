import type { SqliteConnection } from './sqlite-driver.js'
import { isSqliteBusy } from './sqlite-errors.js'

/** Table names are interpolated into SQL, so only plain identifiers are accepted. */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/

export function assertTableName(tableName: string): void {
  if (typeof tableName !== 'string' || !IDENTIFIER.test(tableName)) {
    throw new TypeError(
      `tableName must be a plain SQL identifier (a letter or _, then letters, digits or _, at most 63 characters); got ${JSON.stringify(tableName)}`,
    )
  }
}

/** The table that carries session events between processes sharing the file. */
export function eventsTableName(tableName: string): string {
  return `${tableName}_events`
}

/** One table or index of the schema: its name, and the statement that creates it if missing. */
export interface SchemaStatement {
  readonly name: string
  readonly sql: string
}

/**
 * The schema, created if missing. `IF NOT EXISTS` makes it safe to run on every open, from any
 * number of processes sharing the file; a file made by an earlier version gains the events table.
 */
export function schemaStatements(tableName: string, options: { events: boolean }): SchemaStatement[] {
  const statements: SchemaStatement[] = [
    {
      name: tableName,
      sql: `CREATE TABLE IF NOT EXISTS "${tableName}" (
      id TEXT PRIMARY KEY NOT NULL,
      user_id TEXT NOT NULL,
      data TEXT NOT NULL,
      version INTEGER NOT NULL,
      created_at INTEGER NOT NULL,
      last_active_at INTEGER NOT NULL,
      expires_at INTEGER NOT NULL,
      metadata TEXT
    )`,
    },
    { name: `${tableName}_user_id`, sql: `CREATE INDEX IF NOT EXISTS "${tableName}_user_id" ON "${tableName}" (user_id, expires_at)` },
    { name: `${tableName}_expires_at`, sql: `CREATE INDEX IF NOT EXISTS "${tableName}_expires_at" ON "${tableName}" (expires_at)` },
  ]
  if (options.events) {
    // AUTOINCREMENT: a sequence number is never reused, even once pruning has emptied the table,
    // so a reader that remembers the last one it read can never skip a newer event.
    statements.push({
      name: eventsTableName(tableName),
      sql: `CREATE TABLE IF NOT EXISTS "${eventsTableName(tableName)}" (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      at INTEGER NOT NULL,
      origin TEXT NOT NULL,
      message TEXT NOT NULL
    )`,
    })
  }
  return statements
}

/**
 * Adds the `metadata` column (who the client is, JSON) to a sessions table made before it existed.
 * Another process may add it at the same moment: its "duplicate column" is success here.
 */
export function addMetadataColumn(connection: SqliteConnection, tableName: string): void {
  const columns = connection.prepare<[], { name: string }>(`PRAGMA table_info("${tableName}")`).all()
  if (columns.some((column) => column.name === 'metadata')) return
  try {
    connection.exec(`ALTER TABLE "${tableName}" ADD COLUMN metadata TEXT`)
  } catch (error) {
    if (!/duplicate column/i.test(error instanceof Error ? error.message : String(error))) throw error
  }
}

/** Ends the open transaction, if SQLite has not already ended it after a failed statement. */
export function rollback(connection: SqliteConnection): void {
  try {
    connection.exec('ROLLBACK')
  } catch {
    // "no transaction is active": nothing to undo.
  }
}

/** Blocks this thread for `ms` (opening is synchronous; nothing else could run meanwhile anyway). */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

/**
 * Puts a freshly opened file in WAL mode and creates the schema, waiting up to `busyTimeout` ms
 * for other processes doing the same. Two processes opening one new file at once otherwise fail
 * with "database is locked": switching to WAL needs the file to itself, and a `CREATE … IF NOT
 * EXISTS` that starts reading before another process's `CREATE` commits cannot become a write
 * (SQLite refuses at once, without waiting, to avoid a deadlock). The schema is therefore created
 * inside `BEGIN IMMEDIATE`, which takes the write lock first, and each step is retried.
 */
export function prepareSchema(connection: SqliteConnection, statements: readonly SchemaStatement[], options: { wal: boolean; busyTimeout: number }): void {
  const deadline = Date.now() + options.busyTimeout
  const retrying = (step: () => void): void => {
    for (let attempt = 0; ; attempt++) {
      try {
        step()
        return
      } catch (error) {
        if (!isSqliteBusy(error) || Date.now() >= deadline) throw error
        // A short, growing, jittered pause so that racing processes do not retry in lockstep.
        pause(Math.min(50, 2 ** Math.min(attempt, 5)) * (0.5 + Math.random()))
      }
    }
  }
  if (options.wal) {
    // WAL: readers and the writer do not block each other, and a commit is one append. The
    // default synchronous=FULL is kept so that an acknowledged write survives a power loss too.
    const journalMode = connection.prepare<[], { journal_mode: string }>('PRAGMA journal_mode = WAL')
    retrying(() => {
      const mode = journalMode.get()?.journal_mode
      // SQLite answers with the mode it is in; anything but WAL means the switch did not happen yet.
      if (mode?.toLowerCase() !== 'wal') throw Object.assign(new Error(`journal_mode is ${String(mode)}`), { code: 'SQLITE_BUSY' })
    })
  }
  // Usually everything is there already: then opening takes no write lock, and does not wait
  // behind another process's long write.
  const existing = connection.prepare<[], { name: string }>(`SELECT name FROM sqlite_master WHERE type IN ('table', 'index')`)
  const missing = (): SchemaStatement[] => {
    const names = new Set(existing.all().map((row) => row.name))
    return statements.filter((statement) => !names.has(statement.name))
  }
  let needed: SchemaStatement[] = []
  retrying(() => {
    needed = missing()
  })
  if (needed.length === 0) return
  retrying(() => {
    connection.exec('BEGIN IMMEDIATE')
    try {
      for (const statement of statements) connection.exec(statement.sql)
      connection.exec('COMMIT')
    } catch (error) {
      rollback(connection)
      throw error
    }
  })
}
