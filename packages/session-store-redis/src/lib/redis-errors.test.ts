import { ServiceUnavailableError, STORE_UNAVAILABLE_MESSAGE } from '@pikku/core'
import { ErrorReply } from 'redis'
import { describe, expect, it } from 'vitest'
import { storeMisuse } from '@pikku/core/store'
import { translateRedisError } from './redis-errors.js'

describe('what callers learn when Redis fails', () => {
  it('a transient error reply (LOADING, MASTERDOWN…) is an outage too, with the same fixed message', () => {
    const reply = new ErrorReply('MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to no')
    const translated = translateRedisError(reply)
    expect(translated).toBeInstanceOf(ServiceUnavailableError)
    expect((translated as Error).message).toBe(STORE_UNAVAILABLE_MESSAGE)
    expect((translated as Error).cause).toBe(reply)
  })

  it('a caller’s mistake and a non-transient error reply are passed on, never disguised as an outage', () => {
    const mistake = storeMisuse('Session id and userId must be well-formed strings')
    expect(translateRedisError(mistake)).toBe(mistake)
    const bug = new ErrorReply('WRONGTYPE Operation against a key holding the wrong kind of value')
    expect(translateRedisError(bug)).toBe(bug)
  })
})
