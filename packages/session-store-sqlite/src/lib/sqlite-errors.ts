import { storeUnavailable } from '@pikku/core/store'

// SQLite's primary result codes for conditions that pass when the other writer, the disk or the
// file system recovers: a caller should retry later, so they are "unavailable" (503), never "no
// session".
const TRANSIENT: Readonly<Record<number, string>> = {
  5: 'SQLITE_BUSY',
  6: 'SQLITE_LOCKED',
  10: 'SQLITE_IOERR',
  13: 'SQLITE_FULL',
  14: 'SQLITE_CANTOPEN',
  15: 'SQLITE_PROTOCOL',
}
const TRANSIENT_NAMES = Object.values(TRANSIENT)

/**
 * SQLite's result code name for an error from any driver: better-sqlite3 and bun:sqlite put it in
 * `code` ('SQLITE_BUSY_SNAPSHOT'); node:sqlite puts the number in `errcode` (bun:sqlite also in
 * `errno`), whose low byte is the primary code.
 */
export function sqliteErrorCode(error: unknown): string | undefined {
  const fields = (error ?? {}) as { code?: unknown; errcode?: unknown; errno?: unknown }
  if (typeof fields.code === 'string' && fields.code.startsWith('SQLITE_')) return fields.code
  const number = typeof fields.errcode === 'number' ? fields.errcode : typeof fields.errno === 'number' ? fields.errno : undefined
  if (number === undefined) return undefined
  return TRANSIENT[number & 0xff] ?? `SQLITE_${number}`
}

/** Another connection holds the lock (or the snapshot moved under a reader turning writer). */
export function isSqliteBusy(error: unknown): boolean {
  const code = sqliteErrorCode(error)
  return code !== undefined && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'))
}

/**
 * Runs one storage step, turning transient SQLite failures into `ServiceUnavailableError`. Its
 * message is fixed (callers see it; the SQLite error, with its code and file path, is the `cause`).
 */
export function translateSqliteError(error: unknown): unknown {
  const code = sqliteErrorCode(error)
  if (code !== undefined && TRANSIENT_NAMES.some((prefix) => code.startsWith(prefix))) {
    return storeUnavailable(error)
  }
  return error
}

