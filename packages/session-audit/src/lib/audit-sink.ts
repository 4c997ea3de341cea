import type { AuditRecord } from './audit-record.js'

/**
 * Where audit records go. The audit (`createSessionAudit`) calls `write` with one batch at a time
 * per sink, in order, and retries a batch that failed; a sink only has to store it.
 */
export interface AuditSink {
  /** For log lines: `file:<path>`, `postgres:<table>`, `redis:<key>`. */
  readonly name: string
  /** Appends the records, oldest first. Rejects when nothing or only part was stored. */
  write(records: readonly AuditRecord[]): Promise<void>
  /** The last `limit` records, newest first. */
  recent(limit: number): Promise<AuditRecord[]>
  /** Releases what the sink opened itself (not a client the app passed in). */
  close(): Promise<void>
}

export function assertRecentLimit(limit: unknown): asserts limit is number {
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 0 || limit > 10_000) {
    throw new RangeError(`limit must be a whole number from 0 to 10000; got ${String(limit)}`)
  }
}
