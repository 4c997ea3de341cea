import { ServiceUnavailableError } from '@pikku/core'

// Conditions that pass when the other writer, the disk or the file system recovers: a caller
// should retry later, so they are "unavailable" (503), never "no session".
const TRANSIENT = ['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_IOERR', 'SQLITE_FULL', 'SQLITE_CANTOPEN', 'SQLITE_PROTOCOL']

/**
 * Runs one storage step, turning transient SQLite failures into `ServiceUnavailableError`. Its
 * message is fixed (callers see it; the SQLite error, with its code and file path, is the `cause`).
 */
export function translateSqliteError(error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code === 'string' && TRANSIENT.some((prefix) => code.startsWith(prefix))) {
    return new ServiceUnavailableError(STORE_UNAVAILABLE, { cause: error })
  }
  return error
}

/** What every outage of the store says to callers, whatever SQLite reported. */
export const STORE_UNAVAILABLE = 'The session store is unavailable; try again shortly'
