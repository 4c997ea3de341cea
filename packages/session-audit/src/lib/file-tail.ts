import { open } from 'node:fs/promises'
import { type AuditRecord, parseAuditRecord } from './audit-record.js'

const CHUNK_BYTES = 64 * 1024
// A line longer than this is no record a sink wrote (they are a few hundred bytes): skipped
// rather than held in memory while looking for its start.
const MAX_LINE_BYTES = 1024 * 1024
const NEWLINE = 0x0a

const isMissing = (error: unknown): boolean => (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT'

const parseLine = (line: Buffer): AuditRecord | undefined => {
  if (line.length === 0) return undefined
  try {
    return parseAuditRecord(JSON.parse(line.toString('utf8')))
  } catch {
    // A line cut by a crash mid-write, or anything else that is not a record.
    return undefined
  }
}

/**
 * The last `limit` records of a JSON Lines file, newest first, reading it backwards in chunks so a
 * large file costs only its tail. Lines that are not records are skipped; a missing file has none.
 */
export async function readLastRecords(path: string, limit: number): Promise<AuditRecord[]> {
  const records: AuditRecord[] = []
  if (limit <= 0) return records
  let file
  try {
    file = await open(path, 'r')
  } catch (error) {
    if (isMissing(error)) return records
    throw error
  }
  try {
    let position = (await file.stat()).size
    // The bytes after `position` that precede the first newline seen so far: the end of a line
    // whose start is in an earlier chunk.
    let carry: Buffer = Buffer.alloc(0)
    let oversized = false
    while (position > 0 && records.length < limit) {
      const length = Math.min(CHUNK_BYTES, position)
      position -= length
      const chunk = Buffer.alloc(length)
      const { bytesRead } = await file.read(chunk, 0, length, position)
      const data = carry.length === 0 ? chunk.subarray(0, bytesRead) : Buffer.concat([chunk.subarray(0, bytesRead), carry])
      let end = data.length
      for (let i = data.length - 1; i >= 0 && records.length < limit; i--) {
        if (data[i] !== NEWLINE) continue
        if (!oversized) {
          const record = parseLine(data.subarray(i + 1, end))
          if (record !== undefined) records.push(record)
        }
        oversized = false
        end = i
      }
      carry = data.subarray(0, end)
      if (carry.length > MAX_LINE_BYTES) {
        carry = Buffer.alloc(0)
        oversized = true
      }
    }
    if (position === 0 && !oversized && records.length < limit) {
      const record = parseLine(carry)
      if (record !== undefined) records.push(record)
    }
    return records
  } finally {
    await file.close()
  }
}
