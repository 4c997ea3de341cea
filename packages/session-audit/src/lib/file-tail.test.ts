import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { AUDIT_EVENT_TYPES, type AuditRecord, parseAuditRecord } from './audit-record.js'
import { readLastRecords } from './file-tail.js'

const dir = mkdtempSync(join(tmpdir(), 'pikku-audit-tail-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const recordArbitrary: fc.Arbitrary<AuditRecord> = fc.record(
  {
    type: fc.constantFrom(...AUDIT_EVENT_TYPES),
    at: fc.integer({ min: 0, max: 4_000_000_000_000 }).map((ms) => new Date(ms).toISOString()),
    userId: fc.string({ maxLength: 40 }),
    label: fc.string({ unit: 'binary', maxLength: 60 }),
  },
  { requiredKeys: ['type', 'at'] },
)

describe('reading the tail of an audit file', () => {
  it('returns the last records newest first, whatever the chunk boundaries', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(recordArbitrary, { maxLength: 300 }), fc.integer({ min: 0, max: 400 }), async (records, limit) => {
        const path = join(dir, 'tail.jsonl')
        writeFileSync(path, records.map((entry) => `${JSON.stringify(entry)}\n`).join(''))
        const expected = records.slice(Math.max(0, records.length - limit)).reverse().map((entry) => parseAuditRecord(entry))
        expect(await readLastRecords(path, limit)).toEqual(expected)
      }),
      { numRuns: 60 },
    )
  })

  it('never throws on arbitrary bytes and returns only well-formed records', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(fc.uint8Array({ maxLength: 300 }), recordArbitrary.map((entry) => Buffer.from(`${JSON.stringify(entry)}\n`)))), async (parts) => {
        const path = join(dir, 'bytes.jsonl')
        writeFileSync(path, Buffer.concat(parts))
        const found = await readLastRecords(path, 1000)
        for (const entry of found) expect(parseAuditRecord(entry)).toEqual(entry)
      }),
      { numRuns: 100 },
    )
  })

  it('skips a line of megabytes without a newline instead of holding it', async () => {
    const path = join(dir, 'huge.jsonl')
    const good = { type: 'created', at: new Date(0).toISOString(), userId: 'u' }
    writeFileSync(path, `${JSON.stringify(good)}\n${'x'.repeat(3 * 1024 * 1024)}\n${JSON.stringify({ ...good, userId: 'v' })}\n`)
    expect((await readLastRecords(path, 10)).map((entry) => entry.userId)).toEqual(['v', 'u'])
  })

  it('finds nothing in a missing file', async () => {
    expect(await readLastRecords(join(dir, 'missing.jsonl'), 5)).toEqual([])
  })
})
