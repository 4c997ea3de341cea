import { parseSessionEventMessage, type SessionEventMessage } from '@pikku/core/store'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { changedMessageBuilder } from './redis-event-message.js'

// What a script publishes: the version as Redis holds it, which is String() of the number the
// store sent (every script argument goes through String()).
function published(origin: string, id: string, userId: string, expiresAt: number, version: number): string {
  const { head, tail } = changedMessageBuilder(origin)(id, userId, expiresAt)
  return head + String(version) + tail
}

describe('changed events published by the Redis scripts', () => {
  it('are the message JSON.stringify made of the event before, for any ids and numbers (property)', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.string({ unit: 'binary' }),
        fc.string({ unit: 'binary' }),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.oneof(fc.nat(), fc.maxSafeNat(), fc.double({ noNaN: true, noDefaultInfinity: true })),
        (origin, id, userId, expiresAt, version) => {
          const message: SessionEventMessage = { origin, event: { type: 'changed', id, userId, version, expiresAt } }
          const payload = published(origin, id, userId, expiresAt, version)
          expect(JSON.parse(payload)).toEqual(JSON.parse(JSON.stringify(message)))
          expect(parseSessionEventMessage(payload)).toEqual(JSON.parse(JSON.stringify(message)))
        },
      ),
    )
  })

  it('are ignored by subscribers, as before, when a number is not finite', () => {
    expect(parseSessionEventMessage(published('o', 'i', 'u', Number.NaN, 2))).toBeUndefined()
    expect(parseSessionEventMessage(published('o', 'i', 'u', 1_000, Number.NaN))).toBeUndefined()
    expect(parseSessionEventMessage(published('o', 'i', 'u', 1_000, Number.POSITIVE_INFINITY))).toBeUndefined()
  })
})
