import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { AUDIT_RECORD_FIELDS, parseAuditRecord } from './audit-record.js'

describe('audit records read back from a sink', () => {
  it('never throws, and keeps only audit fields holding strings of at most 256 characters', () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.dictionary(fc.constantFrom(...AUDIT_RECORD_FIELDS, 'token', 'data', '__proto__'), fc.anything())), (input) => {
        const record = parseAuditRecord(input)
        if (record === undefined) return
        for (const [key, value] of Object.entries(record)) {
          expect(AUDIT_RECORD_FIELDS).toContain(key)
          expect(typeof value).toBe('string')
          expect((value as string).length).toBeLessThanOrEqual(256)
        }
        expect(Date.parse(record.at)).not.toBeNaN()
      }),
      { numRuns: 2_000 },
    )
  })

  it('turns an event time in ms into ISO 8601 and leaves out everything else an event carries', () => {
    const event = { type: 'revoked', at: 1_800_000_000_000, handle: 'h', userId: 'alice', by: 'admin', reason: 'admin', protocol: 'http', label: undefined, token: 't0k3n', data: { secret: 1 } }
    expect(parseAuditRecord(event)).toEqual({ type: 'revoked', at: '2027-01-15T08:00:00.000Z', handle: 'h', userId: 'alice', protocol: 'http', by: 'admin', reason: 'admin' })
  })

  it('refuses what has no known type or no valid time', () => {
    expect(parseAuditRecord({ type: 'login', at: 0 })).toBeUndefined()
    expect(parseAuditRecord({ type: 'created' })).toBeUndefined()
    expect(parseAuditRecord({ type: 'created', at: 'yesterday' })).toBeUndefined()
    expect(parseAuditRecord({ type: 'created', at: Number.NaN })).toBeUndefined()
    expect(parseAuditRecord('created')).toBeUndefined()
    expect(parseAuditRecord(null)).toBeUndefined()
  })

  it('cuts a client-chosen label to 256 characters', () => {
    const record = parseAuditRecord({ type: 'created', at: 0, label: 'x'.repeat(10_000) })
    expect(record?.label).toHaveLength(256)
  })
})
