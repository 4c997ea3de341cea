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
})
