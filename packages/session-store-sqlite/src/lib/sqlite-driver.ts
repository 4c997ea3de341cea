import { createRequire } from 'node:module'

/** The SQLite bindings the store can run on. */
export const SQLITE_DRIVERS = ['better-sqlite3', 'node:sqlite', 'bun:sqlite'] as const
export type SqliteDriverName = (typeof SQLITE_DRIVERS)[number]

/** A value SQLite binds or returns (the store only uses text and numbers). */
export type SqliteValue = string | number | null

/** One prepared statement, the same on every driver. */
export interface SqliteStatement<P extends SqliteValue[], R> {
  /** The first row, or undefined when there is none. */
  get(...params: P): R | undefined
  all(...params: P): R[]
  /** Runs a statement that returns no rows; `changes` is how many rows it wrote. */
  run(...params: P): { changes: number }
}

/** What the store needs from an open database, whichever driver opened it. */
export interface SqliteConnection {
  readonly driver: SqliteDriverName
  exec(sql: string): void
  prepare<P extends SqliteValue[] = [], R = unknown>(sql: string): SqliteStatement<P, R>
  close(): void
}

// The drivers' own shapes, as far as the store uses them. They are loaded at run time (only the
// chosen one), so none of their type packages is needed to build or use this package.
interface DriverStatement {
  get(...params: SqliteValue[]): unknown
  all(...params: SqliteValue[]): unknown[]
  run(...params: SqliteValue[]): { changes: number | bigint }
}
interface DriverDatabase {
  exec(sql: string): unknown
  prepare(sql: string): DriverStatement
  close(): void
}
type DriverConstructor = new (path: string, options?: Record<string, unknown>) => DriverDatabase

const requireFromHere = createRequire(import.meta.url)

function isBun(): boolean {
  return typeof (globalThis as { Bun?: unknown }).Bun !== 'undefined'
}

function moduleMissing(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND' || code === 'ERR_UNKNOWN_BUILTIN_MODULE'
}

function loadBetterSqlite3(): DriverConstructor {
  try {
    return requireFromHere('better-sqlite3') as DriverConstructor
  } catch (error) {
    if (!moduleMissing(error)) throw error
    throw new Error(
      'driver "better-sqlite3" needs the better-sqlite3 package: install it (pnpm add better-sqlite3), ' +
        'or choose driver "node:sqlite" (Node 22.13 or later) or "bun:sqlite" (Bun)',
      { cause: error },
    )
  }
}

function loadNodeSqlite(): DriverConstructor {
  const getBuiltin = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule
  let loaded: { DatabaseSync?: DriverConstructor } | undefined
  try {
    loaded = (getBuiltin?.('node:sqlite') ?? requireFromHere('node:sqlite')) as { DatabaseSync?: DriverConstructor } | undefined
  } catch (error) {
    if (!moduleMissing(error)) throw error
  }
  if (loaded?.DatabaseSync === undefined) {
    throw new Error(
      `driver "node:sqlite" needs Node 22.13 or later (22.5 with --experimental-sqlite); this is ${process.version}. ` +
        'Choose driver "better-sqlite3" instead',
    )
  }
  return loaded.DatabaseSync
}

function loadBunSqlite(): DriverConstructor {
  if (!isBun()) throw new Error('driver "bun:sqlite" runs only under Bun; choose "better-sqlite3" or "node:sqlite" under Node')
  return (requireFromHere('bun:sqlite') as { Database: DriverConstructor }).Database
}

function betterSqlite3Installed(): boolean {
  try {
    requireFromHere.resolve('better-sqlite3')
    return true
  } catch {
    return false
  }
}

/**
 * The driver used when none is named: `bun:sqlite` under Bun; otherwise `better-sqlite3` when it
 * is installed, else `node:sqlite` when this Node has it.
 */
export function defaultSqliteDriver(): SqliteDriverName {
  if (isBun()) return 'bun:sqlite'
  if (betterSqlite3Installed()) return 'better-sqlite3'
  const getBuiltin = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule
  if (getBuiltin?.('node:sqlite') !== undefined) return 'node:sqlite'
  // Neither: name the package to install (opening says so).
  return 'better-sqlite3'
}

export function assertSqliteDriver(driver: unknown): asserts driver is SqliteDriverName {
  if (!(SQLITE_DRIVERS as readonly unknown[]).includes(driver)) {
    throw new TypeError(`driver must be one of ${SQLITE_DRIVERS.map((name) => `'${name}'`).join(', ')}; got ${JSON.stringify(driver)}`)
  }
}

function wrapStatement<P extends SqliteValue[], R>(statement: DriverStatement): SqliteStatement<P, R> {
  return {
    // bun:sqlite answers null for "no row", the others undefined.
    get: (...params) => (statement.get(...params) ?? undefined) as R | undefined,
    all: (...params) => statement.all(...params) as R[],
    run: (...params) => ({ changes: Number(statement.run(...params).changes) }),
  }
}

/**
 * Opens `path` with `driver`. Every driver gets the same busy timeout (through the pragma, which
 * all of them honour) and hands back rows as plain objects with numbers, never bigints.
 */
export function openSqliteConnection(driver: SqliteDriverName, path: string, busyTimeout: number): SqliteConnection {
  let database: DriverDatabase
  switch (driver) {
    case 'better-sqlite3':
      database = new (loadBetterSqlite3())(path, { timeout: busyTimeout })
      break
    case 'node:sqlite':
      database = new (loadNodeSqlite())(path)
      break
    case 'bun:sqlite':
      database = new (loadBunSqlite())(path, { create: true, readwrite: true })
      break
  }
  try {
    database.exec(`PRAGMA busy_timeout = ${Math.floor(busyTimeout)}`)
  } catch (error) {
    database.close()
    throw error
  }
  return {
    driver,
    exec: (sql) => void database.exec(sql),
    prepare: <P extends SqliteValue[], R>(sql: string) => wrapStatement<P, R>(database.prepare(sql)),
    close: () => database.close(),
  }
}
