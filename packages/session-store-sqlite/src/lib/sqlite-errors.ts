import { ServiceUnavailableError } from '@pikku/core'

// Conditions that pass when the other writer, the disk or the file system recovers: a caller
// should retry later, so they are "unavailable" (503), never "no session".
const TRANSIENT = ['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_IOERR', 'SQLITE_FULL', 'SQLITE_CANTOPEN', 'SQLITE_PROTOCOL']

/** Runs one storage step, turning transient SQLite failures into `ServiceUnavailableError`. */
export function translateSqliteError(error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code === 'string' && TRANSIENT.some((prefix) => code.startsWith(prefix))) {
    return new ServiceUnavailableError(`The SQLite session store is unavailable (${code}); try again shortly`, { cause: error })
  }
  return error
}
