import type { Logger } from '@pikku/core'
import type { AuditRecord } from './audit-record.js'
import type { AuditSink } from './audit-sink.js'

export interface SinkQueueOptions {
  readonly maxQueued: number
  readonly maxBatch: number
  readonly retryDelay: number
  readonly logger: Logger
}

/** Records waiting for one sink, written in batches, in order, one batch at a time. */
export interface SinkQueue {
  push(record: AuditRecord): void
  /** Resolves once every record pushed before the call was written, or the sink failed. */
  drain(): Promise<void>
  /** Stops retrying; what is still queued is dropped (and logged). */
  stop(): void
}

const MAX_RETRY_DELAY = 30_000

/**
 * Keeps a sink's failures away from requests: `push` never waits and never throws. A failed batch
 * stays queued and is retried after `retryDelay` (doubling up to 30 s), so a database restart loses
 * nothing; past `maxQueued` waiting records the oldest are dropped, and the count is logged.
 */
export function createSinkQueue(sink: AuditSink, options: SinkQueueOptions): SinkQueue {
  const { logger, maxQueued, maxBatch } = options
  let queued: AuditRecord[] = []
  let writing: Promise<void> | undefined
  let retryTimer: ReturnType<typeof setTimeout> | undefined
  let delay = options.retryDelay
  let failing = false
  let dropped = 0
  let stopped = false
  // How many records at the front of the queue the sink is writing now.
  let inFlight = 0

  const writeAll = async (): Promise<void> => {
    while (queued.length > 0 && !stopped) {
      const batch = queued.slice(0, maxBatch)
      inFlight = batch.length
      try {
        await sink.write(batch)
      } catch (error) {
        inFlight = 0
        if (!failing) logger.error(`audit sink ${sink.name} failed; its records are kept and retried`, { error, queued: queued.length })
        failing = true
        retryTimer = setTimeout(retry, delay)
        retryTimer.unref?.()
        delay = Math.min(delay * 2, MAX_RETRY_DELAY)
        return
      }
      // Records pushed while the batch was written are behind it; drops only ever remove the oldest.
      queued = queued.slice(batch.length)
      inFlight = 0
      if (failing) logger.info(`audit sink ${sink.name} works again`, { dropped })
      failing = false
      dropped = 0
      delay = options.retryDelay
    }
  }

  const start = (): void => {
    if (writing !== undefined || retryTimer !== undefined || stopped) return
    writing = writeAll().finally(() => {
      writing = undefined
    })
  }

  function retry(): void {
    retryTimer = undefined
    start()
  }

  return {
    push(record) {
      if (stopped) return
      if (queued.length >= maxQueued) {
        // The oldest record not being written: the batch in flight comes off the front afterwards.
        if (inFlight < queued.length) queued.splice(inFlight, 1)
        if (dropped++ === 0) logger.error(`audit sink ${sink.name} is behind by ${maxQueued} records; the oldest waiting are dropped`)
      }
      queued.push(record)
      // After the current turn, so the events of one request go out as one batch.
      if (writing === undefined && retryTimer === undefined) queueMicrotask(start)
    },

    async drain() {
      for (;;) {
        if (writing !== undefined) await writing
        else if (queued.length > 0 && retryTimer === undefined && !stopped) start()
        else return
      }
    },

    stop() {
      stopped = true
      if (retryTimer !== undefined) clearTimeout(retryTimer)
      retryTimer = undefined
      if (queued.length > 0) logger.error(`audit sink ${sink.name} closed with ${queued.length} records unwritten`)
      queued = []
    },
  }
}
