import { type SessionEvent } from '@pikku/core'
import { parseSessionEventMessage } from '@pikku/core/store'
import { createTestClock } from '@pikku/core/testing'
import { redisAvailable, redisUrl } from '@pikku/framework-testkit/test-services'
import { createClient, type RedisClientType } from 'redis'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { MINUTE, record, useTestRedisStores } from './redis-test-stores.test-support.js'

const available = await redisAvailable()
const { freshPrefix, open } = useTestRedisStores(available)

const clients: RedisClientType[] = []
/** A connected client of the app's own, which the revoking store borrows (so its commands can be watched). */
async function appClient(): Promise<RedisClientType> {
  const client: RedisClientType = createClient({ url: redisUrl })
  client.on('error', () => undefined)
  await client.connect()
  clients.push(client)
  return client
}

/**
 * From now on the client's own PUBLISH command fails: an event sent after the write, in a round
 * trip of its own, is lost, as when the process stops right after Redis deleted the record.
 */
function loseSeparatePublishes(client: RedisClientType): void {
  vi.spyOn(client, 'publish').mockRejectedValue(new Error('publish lost (test)'))
}

describe.skipIf(!available)('Redis store: a revocation is published by the script that deletes it', () => {
  afterEach(async () => {
    vi.restoreAllMocks()
    // After the stores (closed by useTestRedisStores' own afterEach, registered first).
    await Promise.all(clients.splice(0).map((client) => client.close()))
  })

  it('a logout reaches another server’s read cache even when no event can be published after the delete', async () => {
    const clock = createTestClock()
    const prefix = freshPrefix()
    const cached = open(clock, prefix, { cache: {} })
    const client = await appClient()
    const revoking = open(clock, prefix, { client, url: undefined, connectTimeout: undefined })
    await cached.ready()
    const stored = record(clock.now())
    await revoking.set(stored)
    // Answered from memory (the first read may be overtaken by the set's event and not kept).
    await expect.poll(async () => ((await cached.get(stored.id)) === undefined ? -1 : cached.cache!.hits), { timeout: 1_000, interval: 1 }).toBeGreaterThan(0)
    const ownEvents: SessionEvent[] = []
    revoking.subscribe((event) => ownEvents.push(event))
    await revoking.ready()

    loseSeparatePublishes(client)
    expect(await revoking.delete(stored.id, 'revoked')).toBe(true)
    await expect.poll(() => cached.get(stored.id), { timeout: 1_000, interval: 5 }).toBeUndefined()
    // This process's own listeners are told directly, once (the echo is dropped).
    const revoked = { type: 'deleted', id: stored.id, userId: stored.userId, reason: 'revoked' }
    expect(ownEvents).toEqual([revoked])
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(ownEvents).toEqual([revoked])
    // An expired record is deleted but neither counted nor announced.
    vi.restoreAllMocks()
    const expired = record(clock.now(), { expiresAt: clock.now() + MINUTE })
    await revoking.set(expired)
    clock.advance(2 * MINUTE)
    ownEvents.length = 0
    expect(await revoking.delete(expired.id, 'revoked')).toBe(false)
    expect(ownEvents).toEqual([])
  })

  it('revoking a user’s other sessions reaches another server’s read cache even when no event can be published after the deletes', async () => {
    const clock = createTestClock()
    const prefix = freshPrefix()
    const cached = open(clock, prefix, { cache: {} })
    const client = await appClient()
    const revoking = open(clock, prefix, { client, url: undefined, connectTimeout: undefined })
    await cached.ready()
    const kept = record(clock.now())
    const others = [record(clock.now()), record(clock.now())]
    const stranger = record(clock.now(), { userId: 'someone-else' })
    const all = [kept, ...others, stranger]
    for (const session of all) await revoking.set(session)
    await expect
      .poll(
        async () => {
          for (const session of all) await cached.get(session.id)
          return cached.cache!.size
        },
        { timeout: 1_000, interval: 5 },
      )
      .toBe(4)

    loseSeparatePublishes(client)
    expect(await revoking.deleteByUser(kept.userId, { except: kept.id })).toBe(2)
    for (const other of others) await expect.poll(() => cached.get(other.id), { timeout: 1_000, interval: 5 }).toBeUndefined()
    expect((await cached.get(kept.id))?.id).toBe(kept.id)
    expect((await cached.get(stranger.id))?.id).toBe(stranger.id)
  })

  it('publishes exactly the message subscribers parse, for ids and user ids JSON has to escape', async () => {
    const clock = createTestClock()
    const prefix = freshPrefix()
    const store = open(clock, prefix)
    await store.ready()
    const listener = await appClient()
    const subscriber = listener.duplicate()
    subscriber.on('error', () => undefined)
    await subscriber.connect()
    clients.push(subscriber)
    const payloads: string[] = []
    await subscriber.subscribe(`${prefix}:events`, (message) => payloads.push(message))

    const awkward = ['quote"and\\backslash', 'line\nbreak\ttab\u0001', 'ünïcødé 🗝️ \u2028', '</script>/slash']
    for (const [index, userId] of awkward.entries()) {
      const single = record(clock.now(), { id: `${awkward[(index + 1) % awkward.length]}#${index}`, userId })
      const many = [0, 1].map((n) => record(clock.now(), { id: `${userId}/${n}`, userId }))
      for (const session of [single, ...many]) await store.set(session)
      payloads.length = 0
      expect(await store.delete(single.id, 'cleared')).toBe(true)
      expect(await store.deleteByUser(userId)).toBe(2)
      const expected = [
        { type: 'deleted', id: single.id, userId, reason: 'cleared' },
        ...many.map((session) => ({ type: 'deleted', id: session.id, userId, reason: 'revoked' })),
      ]
      const deletions = (): unknown[] =>
        payloads.map((payload) => parseSessionEventMessage(payload)?.event ?? { type: 'unparsed', payload }).filter((event) => event.type !== 'changed')
      await expect.poll(() => deletions().length, { timeout: 1_000, interval: 5 }).toBe(3)
      expect(deletions()).toEqual(expect.arrayContaining(expected))
      // The message begins as JSON.stringify writes it, which is how a store drops its own echo.
      const origin = parseSessionEventMessage(payloads[0]!)!.origin
      for (const payload of payloads) expect(payload.startsWith(`{"origin":${JSON.stringify(origin)},"event":`)).toBe(true)
    }
  })
})
