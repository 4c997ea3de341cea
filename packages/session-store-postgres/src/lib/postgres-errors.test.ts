import { ServiceUnavailableError, STORE_UNAVAILABLE_MESSAGE } from '@pikku/core'
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { storeMisuse } from '@pikku/core/store'
import { translatePostgresError } from './postgres-errors.js'

function databaseError(code: string, message: string): pg.DatabaseError {
  const error = new pg.DatabaseError(message, message.length, 'error')
  error.code = code
  return error
}

describe('what callers learn when PostgreSQL fails', () => {
  it('a transient server error (a shutdown, too many connections) is an outage too, with the same fixed message', () => {
    const refused = databaseError('53300', 'sorry, too many clients already for role "sessions_app"')
    const translated = translatePostgresError(refused)
    expect(translated).toBeInstanceOf(ServiceUnavailableError)
    expect((translated as Error).message).toBe(STORE_UNAVAILABLE_MESSAGE)
    expect((translated as Error).cause).toBe(refused)
  })

  it('a caller’s mistake and a non-transient server error are passed on, never disguised as an outage', () => {
    const mistake = storeMisuse('Session id and userId must be well-formed strings')
    expect(translatePostgresError(mistake)).toBe(mistake)
    const bug = databaseError('42P01', 'relation "pikku_sessions" does not exist')
    expect(translatePostgresError(bug)).toBe(bug)
  })

  it('a table without the write procedures, or a connection left inside a transaction, is explained with what to change', () => {
    const missing = databaseError('42883', 'procedure pikku_sessions_update(unknown, integer) does not exist')
    const explained = translatePostgresError(missing) as Error
    expect(explained).not.toBeInstanceOf(ServiceUnavailableError)
    expect(explained.message).toMatch(/needs schema step 3.*apply postgresSessionSchema\(\) again/)
    expect(explained.cause).toBe(missing)
    const inTransaction = databaseError('2D000', 'invalid transaction termination')
    expect((translatePostgresError(inTransaction) as Error).message).toMatch(/inside a transaction.*COMMIT or ROLLBACK before release\(\)/)
    // Any other missing function is a bug like the rest, passed on as it is.
    const otherFunction = databaseError('42883', 'function nope() does not exist')
    expect(translatePostgresError(otherFunction)).toBe(otherFunction)
  })
})
