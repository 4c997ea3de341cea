import { describe, expect, it } from 'vitest'
import { ServiceUnavailableError, STORE_UNAVAILABLE_MESSAGE } from './errors.js'
import { storeMisuse, storeUnavailable, translateStoreError } from './store-errors.js'

const noBug = (): boolean => false

describe('how a store reports a failure', () => {
  it('a driver error becomes ServiceUnavailableError with the fixed message; the driver error, naming a host, is only its cause', () => {
    const driverError = new Error('connect ECONNREFUSED 10.1.2.3:5433')
    const translated = translateStoreError(driverError, noBug)
    expect(translated).toBeInstanceOf(ServiceUnavailableError)
    expect((translated as Error).message).toBe(STORE_UNAVAILABLE_MESSAGE)
    expect((translated as Error).cause).toBe(driverError)
  })

  it('a TypeError from inside a driver is an outage, but a caller’s mistake raised with storeMisuse passes through', () => {
    expect(translateStoreError(new TypeError('Cannot read properties of undefined'), noBug)).toBeInstanceOf(ServiceUnavailableError)
    const mistake = storeMisuse('Session id and userId must be well-formed strings')
    expect(mistake).toBeInstanceOf(TypeError)
    expect(translateStoreError(mistake, noBug)).toBe(mistake)
  })

  it('an unparseable record and an error the store recognises as a bug pass through, never disguised as an outage', () => {
    const unparseable = new SyntaxError('Unexpected token')
    expect(translateStoreError(unparseable, noBug)).toBe(unparseable)
    const bug = new Error('relation "pikku_sessions" does not exist')
    expect(translateStoreError(bug, (error) => error === bug)).toBe(bug)
  })

  it('storeUnavailable is the same outage a store reports without a driver error to translate', () => {
    const cause = new Error('database is locked')
    const outage = storeUnavailable(cause)
    expect(outage.message).toBe(STORE_UNAVAILABLE_MESSAGE)
    expect(outage.cause).toBe(cause)
    expect(outage.code).toBe('SERVICE_UNAVAILABLE')
  })
})
