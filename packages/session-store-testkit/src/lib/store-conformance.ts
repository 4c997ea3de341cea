import fc from 'fast-check'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  type CoreUserSession,
  createSessionManager,
  type SessionEvent,
  type SessionLifecycleEvent,
  type SessionMetadata,
  type SessionRecord,
  type SessionStore,
  sessionHandle,
  type SweptSession,
} from '@pikku/core'
import { generateSessionToken, hashSessionToken, isStorableKey } from '@pikku/core/store'
import { createTestClock, type TestClock } from '@pikku/core/testing'

interface ConformanceSession extends CoreUserSession {
  email?: string
  role?: string
  counter?: number
  tags?: string[]
  nested?: { deep: { value: string } }
  blob?: string
  [key: string]: unknown
}

export interface SessionStoreConformanceOptions {
  /**
   * Makes an empty store reading time from `clock`. Called before every case; stores backed by a
   * shared database should use a fresh key prefix, table or schema each time.
   */
  create: (clock: TestClock) => Promise<SessionStore<ConformanceSession>> | SessionStore<ConformanceSession>
  /** Disposes of a store made by `create` (close connections, drop test data). */
  destroy?: (store: SessionStore<ConformanceSession>) => Promise<void> | void
  /**
   * How long (ms) to wait for a store's own events to arrive, for stores that deliver them
   * asynchronously (pub/sub).
   * @default 0
   */
  eventDelay?: number
  /**
   * Runs the store's sweep of expired records now, for a store that has one (and `onSweep`): the
   * case that checks what a sweep reports runs only when given.
   * @default undefined (the store does not sweep)
   */
  sweep?: (store: SessionStore<ConformanceSession>) => Promise<unknown>
}

const MINUTE = 60_000
/** Time allowed for a property case (100 generated runs against a real backend). */
const PROPERTY_TIMEOUT = 60_000

function record(overrides: Partial<SessionRecord<ConformanceSession>> & { now: number }): SessionRecord<ConformanceSession> {
  const userId = overrides.userId ?? 'user-1'
  return {
    id: overrides.id ?? hashSessionToken(generateSessionToken()),
    userId,
    data: overrides.data ?? { userId, email: `${userId}@example.com`, role: 'user' },
    version: overrides.version ?? 1,
    createdAt: overrides.createdAt ?? overrides.now,
    lastActiveAt: overrides.lastActiveAt ?? overrides.now,
    expiresAt: overrides.expiresAt ?? overrides.now + 30 * MINUTE,
    ...(overrides.metadata === undefined ? {} : { metadata: overrides.metadata }),
  }
}

async function settle(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms))
}

/**
 * The contract every session store must honour, written out case by case. Call it from a
 * store package's test file:
 *
 * ```ts
 * describeSessionStoreConformance('memory store', { create: (clock) => createMemoryStore({ clock: clock.now }) })
 * ```
 */
export function describeSessionStoreConformance(name: string, options: SessionStoreConformanceOptions): void {
  describe(`${name} honours the session store contract`, () => {
    let clock: TestClock
    let store: SessionStore<ConformanceSession>
    const eventDelay = options.eventDelay ?? 0

    beforeEach(async () => {
      clock = createTestClock()
      store = await options.create(clock)
    })

    afterEach(async () => {
      await options.destroy?.(store)
    })

    it('returns a stored session unchanged (round trip)', async () => {
      const stored = record({ now: clock.now(), data: { userId: 'user-1', email: 'a@example.com', tags: ['x', 'y'], nested: { deep: { value: 'ü 🎉' } } } })
      await store.set(stored)
      expect(await store.get(stored.id)).toEqual(stored)
    })

    it('returns undefined for an id it never stored', async () => {
      expect(await store.get(hashSessionToken(generateSessionToken()))).toBeUndefined()
    })

    it('keeps sessions apart', async () => {
      const first = record({ now: clock.now(), data: { userId: 'user-1', email: 'one@example.com' } })
      const second = record({ now: clock.now(), data: { userId: 'user-1', email: 'two@example.com' } })
      await store.set(first)
      await store.set(second)
      expect((await store.get(first.id))?.data.email).toBe('one@example.com')
      expect((await store.get(second.id))?.data.email).toBe('two@example.com')
    })

    it('keeps users apart in the per-user index', async () => {
      const alice = record({ now: clock.now(), userId: 'alice' })
      const bob = record({ now: clock.now(), userId: 'bob' })
      await store.set(alice)
      await store.set(bob)
      expect((await store.listByUser('alice')).map((r) => r.id)).toEqual([alice.id])
      expect((await store.listByUser('bob')).map((r) => r.id)).toEqual([bob.id])
      expect(await store.listByUser('carol')).toEqual([])
    })

    it('keeps session metadata beside the data, through updates and renewals', async () => {
      const metadata = { protocol: 'http', credential: 'cookie', label: 'Firefox 133 on Linux ü', address: '2001:db8::1' }
      const stored = record({ now: clock.now(), userId: 'alice', metadata })
      await store.set(stored)
      expect(await store.get(stored.id)).toEqual(stored)
      expect((await store.get(stored.id))?.data).not.toHaveProperty('label')
      await store.update(stored.id, 1, { data: { ...stored.data, role: 'admin' }, lastActiveAt: clock.now(), expiresAt: stored.expiresAt })
      clock.advance(MINUTE)
      await store.touch(stored.id, clock.now(), clock.now() + 30 * MINUTE)
      expect((await store.get(stored.id))?.metadata).toEqual(metadata)
      const [listed] = await store.listByUser('alice')
      expect(listed?.metadata).toEqual(metadata)
      expect(listed?.lastActiveAt).toBe(clock.now())
    })

    it('replaces the metadata when an update carries it, with the data and version, and keeps it when the next does not', async () => {
      const metadata = { protocol: 'http', credential: 'cookie', label: 'PhoneApp/2.1', address: '192.0.2.4' }
      const stored = record({ now: clock.now(), userId: 'alice', metadata })
      await store.set(stored)
      const used = { ...metadata, credential: 'bearer' }
      expect(await store.update(stored.id, 1, { data: stored.data, lastActiveAt: clock.now(), expiresAt: stored.expiresAt, metadata: used })).toBe('ok')
      expect(await store.get(stored.id)).toMatchObject({ version: 2, data: stored.data, metadata: used })
      expect(await store.update(stored.id, 2, { data: { ...stored.data, role: 'admin' }, lastActiveAt: clock.now(), expiresAt: stored.expiresAt })).toBe('ok')
      expect(await store.get(stored.id)).toMatchObject({ version: 3, metadata: used })
      expect((await store.listByUser('alice'))[0]?.metadata).toEqual(used)
      // A conflicting update writes nothing, metadata included.
      expect(await store.update(stored.id, 1, { data: stored.data, lastActiveAt: clock.now(), expiresAt: stored.expiresAt, metadata })).toBe('conflict')
      expect((await store.get(stored.id))?.metadata).toEqual(used)
    })

    it.runIf(options.sweep !== undefined)('reports what its sweep removed to onSweep, and the session manager emits expired for each', async () => {
      expect(typeof store.onSweep).toBe('function')
      const events: SessionLifecycleEvent[] = []
      createSessionManager({ store, clock: clock.now, onEvent: (event) => void events.push(event) })
      const heard: SweptSession[] = []
      const off = store.onSweep!((swept) => void heard.push(...swept))
      const metadata = { protocol: 'http', credential: 'cookie', label: 'Firefox on Linux' }
      const ending = record({ now: clock.now(), userId: 'alice', expiresAt: clock.now() + MINUTE, metadata })
      const bare = record({ now: clock.now(), userId: 'bob', expiresAt: clock.now() + MINUTE })
      const live = record({ now: clock.now(), userId: 'alice', expiresAt: clock.now() + 30 * MINUTE })
      for (const stored of [ending, bare, live]) await store.set(stored)
      clock.advance(2 * MINUTE)
      await options.sweep!(store)
      await new Promise((resolve) => setImmediate(resolve))
      expect(heard.sort((a, b) => a.userId.localeCompare(b.userId))).toEqual([
        { id: ending.id, userId: 'alice', metadata },
        { id: bare.id, userId: 'bob' },
      ])
      expect(events.map((event) => event.type === 'expired' && [event.handle, event.userId, event.createdProtocol, event.protocol]).sort()).toEqual(
        [
          [sessionHandle(ending.id), 'alice', 'http', undefined],
          [sessionHandle(bare.id), 'bob', undefined, undefined],
        ].sort(),
      )
      // Swept once: a second sweep finds nothing more to report.
      off()
      await options.sweep!(store)
      expect(heard).toHaveLength(2)
      expect(await store.get(live.id)).toBeDefined()
    })

    it('stores a session without metadata as one without it', async () => {
      const stored = record({ now: clock.now() })
      await store.set(stored)
      expect((await store.get(stored.id))?.metadata).toBeUndefined()
      // Stored again by a login with metadata, it has it; the next one without, it has none.
      await store.set({ ...stored, metadata: { protocol: 'cli', credential: 'bearer', label: 'cli@host' } })
      expect((await store.get(stored.id))?.metadata).toEqual({ protocol: 'cli', credential: 'bearer', label: 'cli@host' })
      await store.set(stored)
      expect((await store.get(stored.id))?.metadata).toBeUndefined()
    })

    it('lists every live session of a user with its metadata for the session inventory', async () => {
      const sessions = createSessionManager({ store, clock: clock.now })
      const login = async (userId: string, metadata: SessionMetadata): Promise<string> => {
        const state = sessions.createState()
        await state.set({ userId })
        const result = await sessions.commit(state, { metadata })
        if (result.kind !== 'created') throw new Error('expected a new session')
        return result.record.id
      }
      const browser = await login('alice', { protocol: 'http', credential: 'cookie', label: 'Safari on iOS', address: '192.0.2.10' })
      clock.advance(MINUTE)
      const mcp = await login('alice', { protocol: 'mcp', credential: 'bearer', label: 'claude-code/1.2' })
      await login('bob', { protocol: 'channel', credential: 'in-band' })
      const listed = await sessions.list('alice', { current: browser })
      expect(listed.map((entry) => [entry.handle, entry.protocol, entry.client, entry.current])).toEqual([
        [sessions.handleOf(mcp), 'mcp', 'claude-code/1.2', false],
        [sessions.handleOf(browser), 'http', 'Safari on iOS', true],
      ])
      expect(await sessions.revokeHandle('bob', sessions.handleOf(browser))).toBe(false)
      expect(await sessions.revokeHandle('alice', sessions.handleOf(browser))).toBe(true)
      expect((await sessions.list('alice')).map((entry) => entry.handle)).toEqual([sessions.handleOf(mcp)])
    })

    it('replaces a session stored again under the same id', async () => {
      const first = record({ now: clock.now() })
      await store.set(first)
      const replaced = { ...first, data: { ...first.data, role: 'admin' } }
      await store.set(replaced)
      expect((await store.get(first.id))?.data.role).toBe('admin')
      expect(await store.listByUser(first.userId)).toHaveLength(1)
    })

    it('never returns a session once its expiry has passed', async () => {
      const stored = record({ now: clock.now(), expiresAt: clock.now() + 10 * MINUTE })
      await store.set(stored)
      clock.advance(10 * MINUTE - 1)
      expect(await store.get(stored.id)).toBeDefined()
      clock.advance(1)
      expect(await store.get(stored.id)).toBeUndefined()
    })

    it('leaves expired sessions out of the per-user list', async () => {
      const shortLived = record({ now: clock.now(), userId: 'alice', expiresAt: clock.now() + MINUTE })
      const longLived = record({ now: clock.now(), userId: 'alice', expiresAt: clock.now() + 60 * MINUTE })
      await store.set(shortLived)
      await store.set(longLived)
      clock.advance(2 * MINUTE)
      expect((await store.listByUser('alice')).map((r) => r.id)).toEqual([longLived.id])
    })

    it('touch moves expiry and activity without changing data or version', async () => {
      const stored = record({ now: clock.now(), expiresAt: clock.now() + 10 * MINUTE })
      await store.set(stored)
      clock.advance(9 * MINUTE)
      expect(await store.touch(stored.id, clock.now(), clock.now() + 10 * MINUTE)).toBe(true)
      clock.advance(9 * MINUTE)
      const touched = await store.get(stored.id)
      expect(touched?.data).toEqual(stored.data)
      expect(touched?.version).toBe(stored.version)
      expect(touched?.lastActiveAt).toBe(stored.createdAt + 9 * MINUTE)
    })

    it('touch does not revive an unknown or expired session', async () => {
      expect(await store.touch(hashSessionToken(generateSessionToken()), clock.now(), clock.now() + MINUTE)).toBe(false)
      const stored = record({ now: clock.now(), expiresAt: clock.now() + MINUTE })
      await store.set(stored)
      clock.advance(MINUTE)
      expect(await store.touch(stored.id, clock.now(), clock.now() + 10 * MINUTE)).toBe(false)
      expect(await store.get(stored.id)).toBeUndefined()
    })

    it('deletes one session and reports whether it existed', async () => {
      const kept = record({ now: clock.now() })
      const deleted = record({ now: clock.now() })
      await store.set(kept)
      await store.set(deleted)
      expect(await store.delete(deleted.id)).toBe(true)
      expect(await store.get(deleted.id)).toBeUndefined()
      expect(await store.get(kept.id)).toBeDefined()
      expect(await store.delete(deleted.id)).toBe(false)
      expect((await store.listByUser(kept.userId)).map((r) => r.id)).toEqual([kept.id])
    })

    it('deletes every session of one user and no one else', async () => {
      const alice1 = record({ now: clock.now(), userId: 'alice' })
      const alice2 = record({ now: clock.now(), userId: 'alice' })
      const bob = record({ now: clock.now(), userId: 'bob' })
      await Promise.all([store.set(alice1), store.set(alice2), store.set(bob)])
      expect(await store.deleteByUser('alice')).toBe(2)
      expect(await store.get(alice1.id)).toBeUndefined()
      expect(await store.get(alice2.id)).toBeUndefined()
      expect(await store.get(bob.id)).toBeDefined()
      expect(await store.listByUser('alice')).toEqual([])
      expect(await store.deleteByUser('alice')).toBe(0)
    })

    it('can keep the current session when ending the others', async () => {
      const current = record({ now: clock.now(), userId: 'alice' })
      const other = record({ now: clock.now(), userId: 'alice' })
      await store.set(current)
      await store.set(other)
      expect(await store.deleteByUser('alice', { except: current.id })).toBe(1)
      expect(await store.get(current.id)).toBeDefined()
      expect(await store.get(other.id)).toBeUndefined()
    })

    it('writes a versioned update only over the expected version', async () => {
      const stored = record({ now: clock.now() })
      await store.set(stored)
      const change = { data: { ...stored.data, role: 'admin' }, lastActiveAt: clock.now(), expiresAt: stored.expiresAt }
      expect(await store.update(stored.id, 1, change)).toBe('ok')
      const updated = await store.get(stored.id)
      expect(updated?.version).toBe(2)
      expect(updated?.data.role).toBe('admin')
      expect(await store.update(stored.id, 1, { ...change, data: { ...stored.data, role: 'stale' } })).toBe('conflict')
      expect((await store.get(stored.id))?.data.role).toBe('admin')
    })

    it('does not resurrect a deleted or expired session on update', async () => {
      const stored = record({ now: clock.now(), expiresAt: clock.now() + MINUTE })
      const change = { data: stored.data, lastActiveAt: clock.now(), expiresAt: clock.now() + 60 * MINUTE }
      expect(await store.update(stored.id, 1, change)).toBe('missing')
      await store.set(stored)
      await store.delete(stored.id)
      expect(await store.update(stored.id, 1, change)).toBe('missing')
      expect(await store.get(stored.id)).toBeUndefined()
      const expiring = record({ now: clock.now(), expiresAt: clock.now() + MINUTE })
      await store.set(expiring)
      clock.advance(MINUTE)
      expect(await store.update(expiring.id, 1, change)).toBe('missing')
      expect(await store.get(expiring.id)).toBeUndefined()
    })

    it('loses no update when many writers patch different fields at once', async () => {
      const stored = record({ now: clock.now(), data: { userId: 'user-1' } })
      await store.set(stored)
      const writers = Array.from({ length: 12 }, (_, i) => async () => {
        for (;;) {
          const latest = await store.get(stored.id)
          if (latest === undefined) throw new Error('session vanished')
          const data = { ...latest.data, [`field${i}`]: i }
          const result = await store.update(stored.id, latest.version, { data, lastActiveAt: clock.now(), expiresAt: latest.expiresAt })
          if (result === 'ok') return
          if (result === 'missing') throw new Error('session vanished')
        }
      })
      await Promise.all(writers.map((write) => write()))
      const final = await store.get(stored.id)
      for (let i = 0; i < 12; i++) expect(final?.data[`field${i}`]).toBe(i)
      expect(final?.version).toBe(13)
    })

    it('round-trips a large payload', async () => {
      const blob = 'x'.repeat(256 * 1024)
      const stored = record({ now: clock.now(), data: { userId: 'user-1', blob, tags: Array.from({ length: 1000 }, (_, i) => `tag-${i}`) } })
      await store.set(stored)
      const loaded = await store.get(stored.id)
      expect(loaded?.data.blob).toHaveLength(blob.length)
      expect(loaded?.data.tags).toHaveLength(1000)
    })

    it('returns copies or frozen values: mutating a returned session changes nothing stored', async () => {
      const stored = record({ now: clock.now(), data: { userId: 'user-1', tags: ['a'], nested: { deep: { value: 'v' } } } })
      await store.set(stored)
      const first = await store.get(stored.id)
      // A store may share one deeply frozen value among readers: then the mutation throws.
      mutateOrRefuse(() => first!.data.tags!.push('mutated'))
      mutateOrRefuse(() => (first!.data.nested!.deep.value = 'mutated'))
      mutateOrRefuse(() => ((first!.data as Record<string, unknown>)['extra'] = true))
      const second = await store.get(stored.id)
      expect(second?.data).toEqual({ userId: 'user-1', tags: ['a'], nested: { deep: { value: 'v' } } })
      const listed = await store.listByUser('user-1')
      mutateOrRefuse(() => listed[0]!.data.tags!.push('mutated'))
      expect((await store.get(stored.id))?.data.tags).toEqual(['a'])
    })

    it('keeps its own copy: mutating the object passed to set changes nothing stored', async () => {
      const data: ConformanceSession = { userId: 'user-1', tags: ['a'] }
      const stored = record({ now: clock.now(), data })
      await store.set(stored)
      data.tags!.push('mutated')
      expect((await store.get(stored.id))?.data.tags).toEqual(['a'])
    })

    it('announces deletions, revocations and changes to subscribers', async () => {
      const events: SessionEvent[] = []
      const unsubscribe = store.subscribe((event) => events.push(event))
      try {
        const one = record({ now: clock.now(), userId: 'alice' })
        const two = record({ now: clock.now(), userId: 'alice' })
        await store.set(one)
        await store.set(two)
        await store.update(one.id, 1, { data: { ...one.data, role: 'admin' }, lastActiveAt: clock.now(), expiresAt: one.expiresAt })
        await store.delete(one.id, 'cleared')
        await store.deleteByUser('alice')
        await settle(eventDelay)
        expect(events).toContainEqual(expect.objectContaining({ type: 'changed', id: one.id, version: 2 }))
        expect(events).toContainEqual({ type: 'deleted', id: one.id, userId: 'alice', reason: 'cleared' })
        expect(events).toContainEqual({ type: 'deleted', id: two.id, userId: 'alice', reason: 'revoked' })
        // Interrupted and resync are only for a subscription that was lost (and re-established),
        // never for one that simply works.
        expect(events).not.toContainEqual({ type: 'interrupted' })
        expect(events).not.toContainEqual({ type: 'resync' })
      } finally {
        unsubscribe()
      }
    })

    it('stops announcing to a subscriber that unsubscribed', async () => {
      const events: SessionEvent[] = []
      const unsubscribe = store.subscribe((event) => events.push(event))
      unsubscribe()
      const stored = record({ now: clock.now() })
      await store.set(stored)
      await store.delete(stored.id)
      await settle(eventDelay)
      expect(events).toEqual([])
    })

    it('round-trips any JSON session data exactly (property)', async () => {
      const anyString = fc.string({ unit: 'binary', maxLength: 40 })
      const sessionData = fc.dictionary(anyString, fc.jsonValue({ maxDepth: 4 }), { maxKeys: 8 })
      await fc.assert(
        fc.asyncProperty(sessionData, anyString, async (data, userId) => {
          // User ids come from the app; ones a database cannot store exactly are out of contract.
          fc.pre(isStorableKey(userId))
          const stored = record({ now: clock.now(), userId, data: { ...data, userId } })
          await store.set(stored)
          // Exactly what JSON carries: the one JSON value JavaScript tells apart, -0, comes back as 0.
          expect(await store.get(stored.id)).toEqual(JSON.parse(JSON.stringify(stored)))
          expect((await store.listByUser(userId)).map((r) => r.id)).toContain(stored.id)
        }),
        { numRuns: 100 },
      )
      // 100 runs of several round trips each: on a busy machine, well past the default 5 s.
    }, PROPERTY_TIMEOUT)

    it('round-trips lone surrogates and NUL characters inside session data', async () => {
      const stored = record({ now: clock.now(), data: { userId: 'alice', odd: '\uD800 \0 \uDFFF', ['\u0000key']: ['\uDBFF'] } })
      await store.set(stored)
      expect(await store.get(stored.id)).toEqual(stored)
    })

    it('answers any id, however malformed, with "not found" instead of failing (property)', async () => {
      const change = { data: { userId: 'alice' }, lastActiveAt: clock.now(), expiresAt: clock.now() + MINUTE }
      await fc.assert(
        fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 40 }), async (id) => {
          expect(await store.get(id)).toBeUndefined()
          expect(await store.delete(id)).toBe(false)
          expect(await store.touch(id, clock.now(), clock.now() + MINUTE)).toBe(false)
          expect(await store.update(id, 1, change)).toBe('missing')
          expect(await store.listByUser(id)).toEqual([])
          expect(await store.deleteByUser(id)).toBe(0)
        }),
        { numRuns: 100 },
      )
    }, PROPERTY_TIMEOUT)

    it('ends an idle session and an over-age active session under the session manager', async () => {
      const sessions = createSessionManager({ store, clock: clock.now, idleTimeout: 30 * MINUTE, absoluteTimeout: 120 * MINUTE, renewalInterval: MINUTE })
      const idle = sessions.createState()
      await idle.set({ userId: 'alice' })
      const idleResult = await sessions.commit(idle)
      if (idleResult.kind !== 'created') throw new Error('expected a new session')
      clock.advance(30 * MINUTE)
      expect(await sessions.loadByToken(idleResult.token)).toBeUndefined()

      const active = sessions.createState()
      await active.set({ userId: 'bob' })
      const activeResult = await sessions.commit(active)
      if (activeResult.kind !== 'created') throw new Error('expected a new session')
      // Used every 20 minutes, it never idles out, but the absolute timeout still ends it.
      for (let elapsed = 0; elapsed < 120 * MINUTE - 20 * MINUTE; elapsed += 20 * MINUTE) {
        clock.advance(20 * MINUTE)
        const loaded = await sessions.loadByToken(activeResult.token)
        expect(loaded?.userId).toBe('bob')
        await sessions.commit(sessions.createState(loaded))
      }
      clock.advance(20 * MINUTE)
      expect(await sessions.loadByToken(activeResult.token)).toBeUndefined()
    })
  })
}

/** Runs a mutation of a value a store returned; a store that froze the value refuses it with a TypeError. */
function mutateOrRefuse(mutate: () => unknown): void {
  try {
    mutate()
  } catch (error) {
    if (!(error instanceof TypeError)) throw error
  }
}
