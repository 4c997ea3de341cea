import { type FileHandle, mkdir, open, rename, stat } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { AUDIT_RECORD_FIELDS, type AuditRecord } from './audit-record.js'
import { assertRecentLimit, type AuditSink } from './audit-sink.js'
import { readLastRecords } from './file-tail.js'

export interface FileAuditSinkOptions {
  /**
   * The JSON Lines file. Its directory is created (mode 0700) when missing and the file is created
   * with mode 0600: it names users and their addresses.
   */
  path: string
  /**
   * The size in bytes past which the file is rotated: it becomes `<path>.1` (and `.1` becomes `.2`,
   * and so on) and a new file is started. A record is never split across files.
   * @default 10_485_760 (10 MiB)
   */
  maxBytes?: number
  /**
   * How many rotated files are kept (`<path>.1` … `<path>.<maxFiles>`); the oldest is deleted by the
   * rotation that would make one more.
   * @default 5
   */
  maxFiles?: number
}

const isMissing = (error: unknown): boolean => (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT'

/**
 * Audit records appended to a JSON Lines file, one record per line, rotated by size. Writes are
 * queued and run one at a time, so concurrent writes from this process never interleave and a
 * rotation never loses a line. Before each write the sink checks that the path still names the
 * file it holds open, so a rotation by another process or by logrotate is followed, not written
 * past. For several servers, use the PostgreSQL or Redis sink.
 */
export function createFileAuditSink(options: FileAuditSinkOptions): AuditSink {
  if (options === null || typeof options !== 'object' || typeof options.path !== 'string' || options.path === '') {
    throw new TypeError('createFileAuditSink needs { path }: the JSON Lines file to append to, e.g. .data/audit.jsonl')
  }
  const path = resolve(options.path)
  const maxBytes = options.maxBytes ?? 10 * 1024 * 1024
  const maxFiles = options.maxFiles ?? 5
  if (!Number.isInteger(maxBytes) || maxBytes < 1024) throw new RangeError(`maxBytes must be a whole number of bytes, at least 1024; got ${String(maxBytes)}`)
  if (!Number.isInteger(maxFiles) || maxFiles < 1 || maxFiles > 1000) throw new RangeError(`maxFiles must be a whole number from 1 to 1000; got ${String(maxFiles)}`)

  let file: FileHandle | undefined
  let closed = false
  // The tail of the queue of writes: each one starts when the previous one settled.
  let queue: Promise<unknown> = Promise.resolve()
  const serially = <T>(task: () => Promise<T>): Promise<T> => {
    const run = queue.then(task)
    queue = run.catch(() => undefined)
    return run
  }

  const release = async (): Promise<void> => {
    const held = file
    file = undefined
    await held?.close()
  }

  /** The open file the path names now, opening it again when it was moved or deleted. */
  const current = async (): Promise<FileHandle> => {
    if (file !== undefined) {
      const [onDisk, held] = await Promise.all([stat(path).catch((error: unknown) => (isMissing(error) ? undefined : Promise.reject(error))), file.stat()])
      if (onDisk !== undefined && onDisk.ino === held.ino && onDisk.dev === held.dev) return file
      await release()
    }
    await mkdir(dirname(path), { recursive: true, mode: 0o700 })
    file = await open(path, 'a', 0o600)
    return file
  }

  const exists = (file: string): Promise<boolean> =>
    stat(file).then(
      () => true,
      (error: unknown) => (isMissing(error) ? false : Promise.reject(error)),
    )

  const rotate = async (): Promise<void> => {
    await release()
    // The rotated files present now, .1 to .<last>: only those are moved.
    let last = 0
    while (last < maxFiles && (await exists(`${path}.${last + 1}`))) last++
    // Oldest first, so each rename moves a file onto a name that was just freed (or onto the
    // oldest, which it replaces when maxFiles are kept already).
    for (let index = Math.min(last + 1, maxFiles); index >= 1; index--) {
      const from = index === 1 ? path : `${path}.${index - 1}`
      try {
        await rename(from, `${path}.${index}`)
      } catch (error) {
        // Another process rotated first: nothing to move.
        if (!isMissing(error)) throw error
      }
    }
  }

  return {
    name: `file:${path}`,

    write(records) {
      if (closed) return Promise.reject(new Error(`The audit file ${path} was closed`))
      if (records.length === 0) return Promise.resolve()
      return serially(async () => {
        let target = await current()
        let size = (await target.stat()).size
        let pending = ''
        let pendingBytes = 0
        for (const record of records) {
          const line = `${JSON.stringify(record, AUDIT_RECORD_FIELDS as string[])}\n`
          const bytes = Buffer.byteLength(line)
          if (size + pendingBytes + bytes > maxBytes && size + pendingBytes > 0) {
            if (pendingBytes > 0) await target.appendFile(pending)
            pending = ''
            pendingBytes = 0
            await rotate()
            target = await current()
            size = (await target.stat()).size
          }
          pending += line
          pendingBytes += bytes
        }
        if (pendingBytes > 0) await target.appendFile(pending)
      })
    },

    async recent(limit) {
      assertRecentLimit(limit)
      const records: AuditRecord[] = []
      for (let index = 0; index <= maxFiles && records.length < limit; index++) {
        const found = await readLastRecords(index === 0 ? path : `${path}.${index}`, limit - records.length)
        for (const record of found) records.push(record)
      }
      return records
    },

    close() {
      closed = true
      return serially(release)
    },
  }
}
