import { ServiceUnavailableError } from '@pikku/core'
import pg from 'pg'

// SQLSTATE classes and codes that mean "try again later": connection exceptions (08),
// insufficient resources (53), operator intervention such as a shutdown or restart (57), system
// errors (58), serialization failures and deadlocks (40001, 40P01), a lock not available (55P03).
const TRANSIENT_CLASSES = new Set(['08', '53', '57', '58'])
const TRANSIENT_CODES = new Set(['40001', '40P01', '55P03'])

// Errors the store raises for a caller's mistake. Only these (and a session's unparseable JSON)
// pass through unchanged besides non-transient server errors: anything else thrown while talking
// to the database, even a TypeError from inside the driver, is treated as an outage.
const misuseErrors = new WeakSet<Error>()

/** A programming mistake by the caller (a plain `TypeError`, never turned into a 503). */
export function misuse(message: string): TypeError {
  const error = new TypeError(message)
  misuseErrors.add(error)
  return error
}

/**
 * Lost connections, timeouts and transient server states become `ServiceUnavailableError` (a 503,
 * never "no session"); other database errors are bugs and are passed on unchanged.
 *
 * The message is fixed: callers see it (core passes a store's `ServiceUnavailableError` through),
 * and a driver's message can name hosts, databases, users or tables. The driver's error is the
 * `cause`, which loggers record and responses never include.
 */
export function translatePostgresError(error: unknown): unknown {
  if (error instanceof SyntaxError || (error instanceof Error && misuseErrors.has(error))) return error
  // Anything that is not an error reported by the server (a refused or reset socket, a timeout,
  // "Connection terminated unexpectedly") means the database could not be reached.
  if (error instanceof pg.DatabaseError) {
    const code = error.code ?? ''
    if (!TRANSIENT_CLASSES.has(code.slice(0, 2)) && !TRANSIENT_CODES.has(code)) return error
  }
  return new ServiceUnavailableError(STORE_UNAVAILABLE, { cause: error })
}

/** What every outage of the store says to callers, whatever the driver reported. */
export const STORE_UNAVAILABLE = 'The session store is unavailable; try again shortly'
