import { randomBytes } from 'node:crypto'
import { createClient } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AuditRecord } from './audit-record.js'
import { createRedisAuditSink } from './redis-sink.js'
import { redisAvailable, redisUrl } from '@pikku/framework-testkit/test-services'

const available = await redisAvailable()

const record = (n: number): AuditRecord => ({
  type: 'revoked',
  at: new Date(1_800_000_000_000 + n).toISOString(),
  handle: `handle-${n}`,
  userId: `user-${n}`,
  protocol: 'channel',
  by: 'user-admin',
  reason: 'admin',
})

describe.skipIf(!available)('Redis audit sink', () => {
  let client: ReturnType<typeof createClient>
  // Every key this test writes starts with its own prefix, and is deleted afterwards.
  const prefix = `pikku-audit-test:${randomBytes(6).toString('hex')}:`
  beforeAll(async () => {
    client = createClient({ url: redisUrl })
    client.on('error', () => undefined)
    await client.connect()
  })
  afterAll(async () => {
    const keys = await client.keys(`${prefix}*`)
    if (keys.length > 0) await client.del(keys)
    client.destroy()
  })

  it('adds one stream entry per record, in order, and reads the last ones newest first', async () => {
    const sink = createRedisAuditSink({ client, key: `${prefix}trail` })
    await sink.write([record(1)])
    await sink.write([record(2), record(3), record(4)])
    expect(await client.xLen(`${prefix}trail`)).toBe(4)
    expect(await sink.recent(3)).toEqual([record(4), record(3), record(2)])
    expect(await sink.recent(0)).toEqual([])
  })

  it('keeps the stream near maxLength', async () => {
    const sink = createRedisAuditSink({ client, key: `${prefix}capped`, maxLength: 100 })
    for (let n = 0; n < 30; n++) await sink.write(Array.from({ length: 50 }, (_, i) => record(n * 50 + i)))
    const length = await client.xLen(`${prefix}capped`)
    // MAXLEN ~ trims whole stream nodes (100 entries each by default): never far above the cap.
    expect(length).toBeGreaterThanOrEqual(100)
    expect(length).toBeLessThan(300)
    expect((await sink.recent(1))[0]).toEqual(record(1499))
  })

  it('stores only the audit fields', async () => {
    const sink = createRedisAuditSink({ client, key: `${prefix}fields` })
    await sink.write([{ ...record(1), token: 'never-this-token' } as AuditRecord])
    const entries = await client.xRange(`${prefix}fields`, '-', '+')
    expect(JSON.stringify(entries)).not.toContain('never-this-token')
  })

  it('skips entries of the key that are not records', async () => {
    const key = `${prefix}mixed`
    const sink = createRedisAuditSink({ client, key })
    await sink.write([record(1)])
    await client.xAdd(key, '*', { other: 'field' })
    await client.xAdd(key, '*', { record: 'not json' })
    expect(await sink.recent(10)).toEqual([record(1)])
  })

  it('fails at once while the client is not connected', async () => {
    const offline = createClient({ url: redisUrl })
    const sink = createRedisAuditSink({ client: offline, key: `${prefix}offline` })
    await expect(sink.write([record(1)])).rejects.toThrow('the Redis client is not connected')
  })

  it('refuses options that would not work, saying what to change', () => {
    expect(() => createRedisAuditSink({} as never)).toThrow('createRedisAuditSink needs { client }')
    expect(() => createRedisAuditSink({ client, key: '' })).toThrow('key must be a string of 1 to 200 characters')
    expect(() => createRedisAuditSink({ client, maxLength: 0 })).toThrow('maxLength must be a whole number of entries, at least 1; got 0')
  })
})
