import { type SessionEvent } from '@pikku/core'
import { parseSessionEventMessage } from '@pikku/core/store'
import { createTestClock } from '@pikku/core/testing'
import { databaseUrl, postgresAvailable } from '@pikku/framework-testkit/test-services'
import pg from 'pg'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { MINUTE, record, useTestPostgresStores } from './postgres-test-stores.test-support.js'

const available = await postgresAvailable()
const { freshTable, open, defer } = useTestPostgresStores(available)

const queryText = (config: unknown): string => (typeof config === 'string' ? config : ((config as { text?: string } | null)?.text ?? ''))

/**
 * From now on, every query sent through any pg Pool that notifies without deleting fails: the
 * separate notification after a write (announce) is lost, as when the process dies right after its
 * DELETE committed. Returns the texts of all queries sent meanwhile.
 */
function loseSeparateNotifications(): string[] {
  const texts: string[] = []
  const original = pg.Pool.prototype.query
  vi.spyOn(pg.Pool.prototype, 'query').mockImplementation(function (this: pg.Pool, ...args: unknown[]) {
    const text = queryText(args[0])
    texts.push(text)
    if (text.includes('pg_notify') && !text.includes('DELETE')) return Promise.reject(new Error('notification lost (test)'))
    return (original as (...a: unknown[]) => unknown).apply(this, args)
  } as never)
  return texts
}

/** A plain LISTEN on `channel`, outside any store: the payloads it hears. */
async function listen(channel: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  defer(() => client.end())
  const payloads: string[] = []
  client.on('notification', (message) => {
    if (message.channel === channel && message.payload !== undefined) payloads.push(message.payload)
  })
  await client.query(`LISTEN "${channel}"`)
  return payloads
}

describe.skipIf(!available)('PostgreSQL store: a revocation commits with its event', () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  it('a logout reaches another server’s read cache even when no notification can be sent after the DELETE', async () => {
    const clock = createTestClock()
    const table = freshTable()
    const cached = open(clock, table, { cache: {}, listenerCheckInterval: 0 })
    const revoking = open(clock, table, { listenerCheckInterval: 0 })
    await cached.ready()
    const stored = record(clock.now())
    await revoking.set(stored)
    // Answered from memory (the first read may be overtaken by the set's event and not kept).
    await expect.poll(async () => ((await cached.get(stored.id)) === undefined ? -1 : cached.cache!.hits), { timeout: 1_000, interval: 1 }).toBeGreaterThan(0)
    const ownEvents: SessionEvent[] = []
    revoking.subscribe((event) => ownEvents.push(event))
    await revoking.ready()

    const texts = loseSeparateNotifications()
    expect(await revoking.delete(stored.id, 'revoked')).toBe(true)
    await expect.poll(() => cached.get(stored.id), { timeout: 1_000, interval: 5 }).toBeUndefined()
    // One statement: the DELETE and its pg_notify.
    const deletes = texts.filter((text) => text.includes('DELETE'))
    expect(deletes).toHaveLength(1)
    expect(deletes[0]).toContain('pg_notify')
    // This process's own listeners are told directly, once (the echo is dropped).
    const revoked = { type: 'deleted', id: stored.id, userId: stored.userId, reason: 'revoked' }
    expect(ownEvents).toEqual([revoked])
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(ownEvents).toEqual([revoked])
    // An expired row is deleted but neither counted nor announced.
    const expired = record(clock.now(), { expiresAt: clock.now() + MINUTE })
    vi.restoreAllMocks()
    await revoking.set(expired)
    clock.advance(2 * MINUTE)
    ownEvents.length = 0
    expect(await revoking.delete(expired.id, 'revoked')).toBe(false)
    expect(ownEvents).toEqual([])
  })

  it('revoking a user’s other sessions reaches another server’s read cache even when no notification can be sent after the DELETE', async () => {
    const clock = createTestClock()
    const table = freshTable()
    const cached = open(clock, table, { cache: {}, listenerCheckInterval: 0 })
    const revoking = open(clock, table, { listenerCheckInterval: 0 })
    await cached.ready()
    const kept = record(clock.now())
    const others = [record(clock.now()), record(clock.now())]
    const stranger = record(clock.now(), { userId: 'someone-else' })
    const all = [kept, ...others, stranger]
    for (const session of all) await revoking.set(session)
    // All four answered from memory (a read overtaken by a set's event is not kept).
    await expect
      .poll(
        async () => {
          for (const session of all) await cached.get(session.id)
          return cached.cache!.size
        },
        { timeout: 1_000, interval: 5 },
      )
      .toBe(4)

    const texts = loseSeparateNotifications()
    expect(await revoking.deleteByUser(kept.userId, { except: kept.id })).toBe(2)
    for (const other of others) await expect.poll(() => cached.get(other.id), { timeout: 1_000, interval: 5 }).toBeUndefined()
    const deletes = texts.filter((text) => text.includes('DELETE'))
    expect(deletes).toHaveLength(1)
    expect(deletes[0]).toContain('pg_notify')
    expect((await cached.get(kept.id))?.id).toBe(kept.id)
    expect((await cached.get(stranger.id))?.id).toBe(stranger.id)
  })

  it('sends exactly the message the listener parses, for ids and user ids JSON has to escape', async () => {
    const clock = createTestClock()
    const table = freshTable()
    const store = open(clock, table, { listenerCheckInterval: 0 })
    await store.ready()
    const payloads = await listen(`${table}_events`)
    const awkward = ['quote"and\\backslash', 'line\nbreak\ttab\u0001', 'ünïcødé 🗝️ \u2028', '</script>']
    const expected: SessionEvent[] = []
    for (const [index, userId] of awkward.entries()) {
      const single = record(clock.now(), { id: `${awkward[(index + 1) % awkward.length]}#${index}`, userId })
      const many = [0, 1].map((n) => record(clock.now(), { id: `${userId}/${n}`, userId }))
      for (const session of [single, ...many]) await store.set(session)
      payloads.length = 0
      expect(await store.delete(single.id, 'cleared')).toBe(true)
      expect(await store.deleteByUser(userId)).toBe(2)
      expected.splice(0, expected.length, { type: 'deleted', id: single.id, userId, reason: 'cleared' }, ...many.map((session) => ({ type: 'deleted' as const, id: session.id, userId, reason: 'revoked' as const })))
      // Every payload is a well-formed message (the sets' `changed` events may still be arriving).
      const deletions = (): SessionEvent[] =>
        payloads.map((payload) => parseSessionEventMessage(payload)?.event ?? { type: 'unparsed', payload }).filter((event) => event.type !== 'changed') as SessionEvent[]
      await expect.poll(() => deletions().length, { timeout: 1_000, interval: 5 }).toBe(3)
      expect(deletions()).toEqual(expect.arrayContaining(expected))
      // The message begins as JSON.stringify writes it, which is how a store drops its own echo.
      const origin = parseSessionEventMessage(payloads[0]!)!.origin
      for (const payload of payloads) expect(payload.startsWith(`{"origin":${JSON.stringify(origin)},"event":`)).toBe(true)
    }
  })
})
