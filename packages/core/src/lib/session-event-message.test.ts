import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { heartbeatMessage, isHeartbeatMessage, parseSessionEventMessage, type SessionEventMessage } from './session-event-message.js'

describe('session event messages between processes', () => {
  it('round-trips every kind of event a store sends', () => {
    const messages: SessionEventMessage[] = [
      { origin: 'a', event: { type: 'changed', id: 'i', userId: 'u', version: 3, expiresAt: 1_000 } },
      { origin: 'b', event: { type: 'deleted', id: 'i', userId: 'u', reason: 'revoked' } },
      { origin: 'c', event: { type: 'deleted', id: 'i', userId: 'u', reason: 'expired' } },
    ]
    for (const message of messages) expect(parseSessionEventMessage(JSON.stringify(message))).toEqual(message)
  })

  it('ignores heartbeats, resync, unknown types and incomplete events', () => {
    for (const payload of [
      '{"heartbeat":"x"}',
      '{"origin":"a","event":{"type":"resync"}}',
      '{"origin":"a","event":{"type":"bogus","id":"i","userId":"u"}}',
      '{"origin":"a","event":{"type":"changed","id":"i","userId":"u"}}',
      '{"origin":"a","event":{"type":"deleted","id":"i","userId":"u","reason":"because"}}',
      '{"origin":1,"event":{"type":"deleted","id":"i","userId":"u","reason":"cleared"}}',
      'not json',
      'null',
    ]) {
      expect(parseSessionEventMessage(payload)).toBeUndefined()
    }
  })

  it('recognises only the heartbeat a subscriber is waiting for', () => {
    expect(isHeartbeatMessage(heartbeatMessage('a', 'h1'), 'h1')).toBe(true)
    expect(isHeartbeatMessage(heartbeatMessage('a', 'h1'), 'h2')).toBe(false)
    expect(isHeartbeatMessage(heartbeatMessage('a', 'h1'), undefined)).toBe(false)
    expect(parseSessionEventMessage(heartbeatMessage('a', 'h1'))).toBeUndefined()
    expect(isHeartbeatMessage('not json', 'h1')).toBe(false)
  })

  it('never throws on arbitrary payloads (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.jsonValue().map((value) => JSON.stringify({ origin: 'x', event: value }))), (payload) => {
        expect(isHeartbeatMessage(payload, 'h')).toBeTypeOf('boolean')
        const parsed = parseSessionEventMessage(payload)
        if (parsed !== undefined) {
          expect(typeof parsed.origin).toBe('string')
          expect(['changed', 'deleted']).toContain(parsed.event.type)
        }
      }),
      { numRuns: 500 },
    )
  })
})
