import { AUDIT_RECORD_FIELDS, type AuditRecord, parseAuditRecord } from './audit-record.js'
import { assertRecentLimit, type AuditSink } from './audit-sink.js'

/** The node-redis client (v4 or v5) the app already has. */
export interface RedisAuditClient {
  readonly isReady: boolean
  sendCommand(...args: never[]): unknown
  multi(...args: never[]): unknown
}

export interface RedisAuditSinkOptions {
  /** A node-redis client the app has connected (`createClient(...).connect()`); the app closes it. */
  client: RedisAuditClient
  /** The stream's key. Give each app sharing a Redis its own. @default 'pikku:session-audit' */
  key?: string
  /**
   * About how many entries the stream keeps: each `XADD` trims it with `MAXLEN ~`, which lets
   * Redis keep a few more until it can drop a whole node of the stream cheaply.
   * @default 100_000
   */
  maxLength?: number
}

type RedisReply = unknown

/**
 * Audit records in a Redis stream shared by every server: one `XADD … MAXLEN ~ <maxLength> * record
 * <json>` per record, a batch in one `MULTI`. Redis assigns the entry ids, so entries from all
 * servers are in one order. While the client is not connected, writes fail at once (and are
 * retried by the audit) instead of waiting in node-redis's offline queue.
 */
export function createRedisAuditSink(options: RedisAuditSinkOptions): AuditSink {
  if (options === null || typeof options !== 'object') throw new TypeError('createRedisAuditSink needs { client }')
  const { client } = options
  if (client === null || typeof client !== 'object' || typeof client.sendCommand !== 'function' || typeof client.multi !== 'function') {
    throw new TypeError('createRedisAuditSink needs { client }: a node-redis client (createClient from the redis package)')
  }
  const key = options.key ?? 'pikku:session-audit'
  if (typeof key !== 'string' || key === '' || key.length > 200) throw new TypeError(`key must be a string of 1 to 200 characters; got ${JSON.stringify(key)}`)
  const maxLength = options.maxLength ?? 100_000
  if (!Number.isInteger(maxLength) || maxLength < 1) throw new RangeError(`maxLength must be a whole number of entries, at least 1; got ${String(maxLength)}`)
  // The calls made; the structural type above only says what is checked.
  const redis = client as unknown as { readonly isReady: boolean; sendCommand(args: string[]): Promise<RedisReply>; multi(): { addCommand(args: string[]): unknown; exec(): Promise<unknown[]> } }

  const assertReady = (): void => {
    if (!redis.isReady) throw new Error('the Redis client is not connected')
  }
  const xadd = (record: AuditRecord): string[] => ['XADD', key, 'MAXLEN', '~', String(maxLength), '*', 'record', JSON.stringify(record, AUDIT_RECORD_FIELDS as string[])]

  return {
    name: `redis:${key}`,

    async write(records) {
      if (records.length === 0) return
      assertReady()
      if (records.length === 1) {
        await redis.sendCommand(xadd(records[0]!))
        return
      }
      const transaction = redis.multi()
      for (const record of records) transaction.addCommand(xadd(record))
      await transaction.exec()
    },

    async recent(limit) {
      assertRecentLimit(limit)
      if (limit === 0) return []
      assertReady()
      const reply = await redis.sendCommand(['XREVRANGE', key, '+', '-', 'COUNT', String(limit)])
      const records: AuditRecord[] = []
      if (!Array.isArray(reply)) return records
      // Each entry is [id, [field, value, field, value…]].
      for (const entry of reply as unknown[]) {
        const fields = Array.isArray(entry) ? (entry[1] as unknown) : undefined
        if (!Array.isArray(fields)) continue
        for (let i = 0; i + 1 < fields.length; i += 2) {
          if (String(fields[i]) !== 'record') continue
          try {
            const record = parseAuditRecord(JSON.parse(String(fields[i + 1])))
            if (record !== undefined) records.push(record)
          } catch {
            // An entry someone else added to the key: not a record.
          }
        }
      }
      return records
    },

    async close() {
      // The client is the app's.
    },
  }
}
