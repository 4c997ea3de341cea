import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, appendFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { AuditRecord } from './audit-record.js'
import { createFileAuditSink } from './file-sink.js'

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pikku-audit-file-'))
})
afterEach(() => {
  rmSync(dir, { recursive: true, force: true })
})

const record = (n: number, type: AuditRecord['type'] = 'created'): AuditRecord => ({
  type,
  at: new Date(1_800_000_000_000 + n).toISOString(),
  handle: `handle-${n}`,
  userId: `user-${n}`,
  protocol: 'http',
  credential: 'cookie',
})

/** Every line of the trail, from the oldest rotated file to the current one. */
const allLines = (path: string): string[] => {
  const rotated = readdirSync(dir)
    .filter((name) => name.startsWith('audit.jsonl.'))
    .map((name) => Number(name.slice('audit.jsonl.'.length)))
    .sort((a, b) => b - a)
  const files = [...rotated.map((index) => `${path}.${index}`), path]
  return files.flatMap((file) => readFileSync(file, 'utf8').split('\n').filter((line) => line !== ''))
}

describe('file audit sink', () => {
  it('keeps every line, whole and in order, when many writes race with rotations', async () => {
    const path = join(dir, 'audit.jsonl')
    const sink = createFileAuditSink({ path, maxBytes: 4096, maxFiles: 1000 })
    // Not awaited one by one: 400 writes of 1 to 5 records are in flight together.
    const writes: Promise<void>[] = []
    let n = 0
    for (let i = 0; i < 400; i++) {
      const batch: AuditRecord[] = []
      for (let j = 0; j < (i % 5) + 1; j++) batch.push(record(n++))
      writes.push(sink.write(batch))
    }
    await Promise.all(writes)
    await sink.close()
    const lines = allLines(path)
    expect(lines).toHaveLength(n)
    expect(lines.map((line) => (JSON.parse(line) as AuditRecord).userId)).toEqual(Array.from({ length: n }, (_, i) => `user-${i}`))
    const files = readdirSync(dir)
    expect(files.length).toBeGreaterThan(10)
    for (const file of files) expect(statSync(join(dir, file)).size).toBeLessThanOrEqual(4096)
  })

  it('deletes the oldest file once maxFiles rotated files exist', async () => {
    const path = join(dir, 'audit.jsonl')
    const sink = createFileAuditSink({ path, maxBytes: 1024, maxFiles: 2 })
    for (let i = 0; i < 60; i++) await sink.write([record(i)])
    await sink.close()
    expect(readdirSync(dir).sort()).toEqual(['audit.jsonl', 'audit.jsonl.1', 'audit.jsonl.2'])
    const lines = allLines(path)
    // The newest lines survive, without a gap.
    expect((JSON.parse(lines.at(-1)!) as AuditRecord).userId).toBe('user-59')
    const first = Number((JSON.parse(lines[0]!) as AuditRecord).userId!.slice('user-'.length))
    expect(lines).toHaveLength(60 - first)
  })

  it('reads the last records newest first, across rotated files', async () => {
    const path = join(dir, 'audit.jsonl')
    const sink = createFileAuditSink({ path, maxBytes: 1024, maxFiles: 50 })
    for (let i = 0; i < 100; i++) await sink.write([record(i)])
    const last = await sink.recent(30)
    expect(last.map((entry) => entry.userId)).toEqual(Array.from({ length: 30 }, (_, i) => `user-${99 - i}`))
    expect(await sink.recent(0)).toEqual([])
    expect((await sink.recent(1000)).length).toBe(100)
    await expect(sink.recent(-1)).rejects.toThrow('limit must be a whole number')
    await sink.close()
  })

  it('creates the directory and the file readable by their owner only', async () => {
    const path = join(dir, 'nested', 'audit.jsonl')
    const sink = createFileAuditSink({ path })
    await sink.write([record(1)])
    await sink.close()
    expect(statSync(join(dir, 'nested')).mode & 0o777).toBe(0o700)
    expect(statSync(path).mode & 0o777).toBe(0o600)
  })

  it('follows a file that logrotate or another process moved away', async () => {
    const path = join(dir, 'audit.jsonl')
    const sink = createFileAuditSink({ path })
    await sink.write([record(1)])
    renameSync(path, join(dir, 'moved.jsonl'))
    await sink.write([record(2)])
    await sink.close()
    expect(readFileSync(join(dir, 'moved.jsonl'), 'utf8')).toContain('user-1')
    expect(readFileSync(path, 'utf8')).not.toContain('user-1')
    expect(readFileSync(path, 'utf8')).toContain('user-2')
  })

  it('writes only the audit fields, whatever else the object carries', async () => {
    const path = join(dir, 'audit.jsonl')
    const sink = createFileAuditSink({ path })
    const leaky = { ...record(1), token: 'secret-token-value', data: { password: 'hunter2' } } as AuditRecord
    await sink.write([leaky])
    await sink.close()
    const text = readFileSync(path, 'utf8')
    expect(text).not.toContain('secret-token-value')
    expect(text).not.toContain('hunter2')
    expect(JSON.parse(text)).toEqual(record(1))
  })

  it('skips a line cut short by a crash and lines that are not records', async () => {
    const path = join(dir, 'audit.jsonl')
    writeFileSync(path, `${JSON.stringify(record(1))}\nnot json\n{"type":"created"}\n${JSON.stringify(record(2))}\n`)
    appendFileSync(path, JSON.stringify(record(3)).slice(0, 20))
    const sink = createFileAuditSink({ path })
    expect((await sink.recent(10)).map((entry) => entry.userId)).toEqual(['user-2', 'user-1'])
    await sink.close()
  })

  it('refuses options that would not work, saying what to change', () => {
    expect(() => createFileAuditSink({ path: '' })).toThrow('createFileAuditSink needs { path }')
    expect(() => createFileAuditSink({ path: join(dir, 'a'), maxBytes: 10 })).toThrow('maxBytes must be a whole number of bytes, at least 1024; got 10')
    expect(() => createFileAuditSink({ path: join(dir, 'a'), maxFiles: 0 })).toThrow('maxFiles must be a whole number from 1 to 1000; got 0')
  })

  it('refuses writes after close', async () => {
    const sink = createFileAuditSink({ path: join(dir, 'audit.jsonl') })
    await sink.close()
    await expect(sink.write([record(1)])).rejects.toThrow('was closed')
  })
})
