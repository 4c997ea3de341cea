import { type Logger, type SessionLifecycleEvent, silentLogger } from '@pikku/core'
import { AUDIT_EVENT_TYPES, type AuditEventType, type AuditRecord, DEFAULT_AUDITED_TYPES, parseAuditRecord } from './audit-record.js'
import { assertRecentLimit, type AuditSink } from './audit-sink.js'
import { createSinkQueue, type SinkQueue } from './sink-queue.js'

export interface SessionAuditOptions {
  /** Where records go: each sink gets every record. At least one. */
  sinks: readonly AuditSink[]
  /**
   * The event types recorded.
   * @default ['created', 'rotated', 'cleared', 'revoked', 'expired', 'refused'] (not `updated` and `renewed`, which ordinary use of a session makes)
   */
  types?: readonly AuditEventType[]
  /** Where sink failures are reported. @default silentLogger */
  logger?: Logger
  /**
   * How many records may wait for a sink that is failing or slow; past it the oldest waiting
   * are dropped (and the count logged), so an outage cannot grow memory without bound.
   * @default 10_000
   */
  maxQueued?: number
  /** The most records one `write` to a sink carries. @default 500 */
  maxBatch?: number
  /** The first wait before a failed write is retried, in ms; it doubles up to 30 s. @default 1_000 */
  retryDelay?: number
}

/** The audit trail of a session manager: pass `onEvent` to `createSessionManager` (or `manager.onEvent`). */
export interface SessionAudit {
  /** The session event subscriber. Never throws and never waits: records are written in the background. */
  readonly onEvent: (event: SessionLifecycleEvent) => void
  /** The last `limit` records (newest first) from the first sink. */
  recent(limit: number): Promise<AuditRecord[]>
  /** Resolves once every record so far has been written to every sink (or a sink failed). */
  flush(): Promise<void>
  /** Flushes, then closes every sink. */
  close(): Promise<void>
}

const positiveInteger = (value: number, option: string): number => {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${option} must be a whole number of at least 1; got ${String(value)}`)
  return value
}

/**
 * Records session lifecycle events in one or more sinks. Each record holds only the event's own
 * fields (`AuditRecord`); a sink that fails or is slow never reaches a request: its records wait,
 * bounded, and are retried, and the failure is logged.
 */
export function createSessionAudit(options: SessionAuditOptions): SessionAudit {
  if (options === null || typeof options !== 'object' || !Array.isArray(options.sinks) || options.sinks.length === 0) {
    throw new TypeError('createSessionAudit needs { sinks }: at least one sink, e.g. [createFileAuditSink({ path: ".data/audit.jsonl" })]')
  }
  for (const sink of options.sinks) {
    if (sink === null || typeof sink !== 'object' || typeof sink.write !== 'function' || typeof sink.recent !== 'function') {
      throw new TypeError('every sink must be an AuditSink (createFileAuditSink, createPostgresAuditSink, createRedisAuditSink)')
    }
  }
  const types = new Set<string>(options.types ?? DEFAULT_AUDITED_TYPES)
  for (const type of types) {
    if (!(AUDIT_EVENT_TYPES as readonly string[]).includes(type)) throw new TypeError(`types may hold only ${AUDIT_EVENT_TYPES.join(', ')}; got ${JSON.stringify(type)}`)
  }
  const logger = options.logger ?? silentLogger
  const maxBatch = positiveInteger(options.maxBatch ?? 500, 'maxBatch')
  const maxQueued = positiveInteger(options.maxQueued ?? 10_000, 'maxQueued')
  if (maxQueued < maxBatch) throw new RangeError(`maxQueued (${maxQueued}) must be at least maxBatch (${maxBatch})`)
  const retryDelay = positiveInteger(options.retryDelay ?? 1_000, 'retryDelay')
  const sinks = [...options.sinks]
  const queues: SinkQueue[] = sinks.map((sink) => createSinkQueue(sink, { logger, maxBatch, maxQueued, retryDelay }))

  const flush = async (): Promise<void> => {
    await Promise.all(queues.map((queue) => queue.drain()))
  }

  return {
    onEvent(event) {
      if (!types.has(event?.type)) return
      // Copied field by field: nothing an event carries beyond the audit fields is kept.
      const record = parseAuditRecord(event)
      if (record === undefined) {
        logger.warn('a session event could not be recorded: it has no valid type or time', { type: event?.type })
        return
      }
      for (const queue of queues) queue.push(record)
    },

    async recent(limit) {
      assertRecentLimit(limit)
      return await sinks[0]!.recent(limit)
    },

    flush,

    async close() {
      await flush()
      for (const queue of queues) queue.stop()
      for (const sink of sinks) {
        try {
          await sink.close()
        } catch (error) {
          logger.error(`audit sink ${sink.name} failed to close`, { error })
        }
      }
    },
  }
}
