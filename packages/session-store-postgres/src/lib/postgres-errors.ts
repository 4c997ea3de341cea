import { translateStoreError } from '@pikku/core/store'
import pg from 'pg'

// SQLSTATE classes and codes that mean "try again later": connection exceptions (08),
// insufficient resources (53), operator intervention such as a shutdown or restart (57), system
// errors (58), serialization failures and deadlocks (40001, 40P01), a lock not available (55P03).
const TRANSIENT_CLASSES = new Set(['08', '53', '57', '58'])
const TRANSIENT_CODES = new Set(['40001', '40P01', '55P03'])

/** An error the server reported about the command itself (not a transient state): a bug, passed on unchanged. */
function isServerBug(error: unknown): boolean {
  if (!(error instanceof pg.DatabaseError)) return false
  const code = error.code ?? ''
  return !TRANSIENT_CLASSES.has(code.slice(0, 2)) && !TRANSIENT_CODES.has(code)
}

/**
 * Lost connections, timeouts and transient server states become `ServiceUnavailableError` (a 503,
 * never "no session"), with core's fixed message and the driver's error as `cause`; other database
 * errors are bugs and are passed on unchanged. Anything that is not an error reported by the
 * server (a refused or reset socket, "Connection terminated unexpectedly") is an outage.
 */
export function translatePostgresError(error: unknown): unknown {
  return explainedMistake(error) ?? translateStoreError(error, isServerBug)
}

/**
 * The two ways a deployment can break the procedures the writes call (decision 037), told as what
 * to change: a table whose schema predates them, and a connection left inside a transaction (a
 * procedure that commits cannot run in one).
 */
function explainedMistake(error: unknown): Error | undefined {
  if (!(error instanceof pg.DatabaseError)) return undefined
  if (error.code === '42883' && error.message.startsWith('procedure ')) {
    return new Error(
      `${error.message}: this release of @pikku/session-store-postgres needs schema step 3. Let the store migrate (migrate: true, the default), or apply postgresSessionSchema() again (it upgrades an existing table) before starting it with migrate: false`,
      { cause: error },
    )
  }
  if (error.code === '2D000') {
    return new Error(
      `PostgreSQL refused the session store's write (${error.message}): the connection it got from the pool was inside a transaction. A connection given back to the pool with a transaction still open is the usual cause: end it with COMMIT or ROLLBACK before release()`,
      { cause: error },
    )
  }
  return undefined
}
