import { describe, expect, it } from 'vitest'
import { createMemoryStore } from './memory-store.js'
import { recordingStore } from './recording-store.test-support.js'
import type { CoreUserSession } from './register.js'
import { cacheSessionStore } from './session-cache.js'
import { createSessionManager } from './session-manager.js'
import type { SessionEvent, SessionEventListener, SessionRecord, SessionStore } from './session-store.js'
import { generateSessionToken, hashSessionToken } from './session-token.js'
import { createTestClock, type TestClock } from './test-clock.js'

// The conformance suite around the cache is in @pikku/session-store-testkit's reference-stores test.

const MINUTE = 60_000

interface Session extends CoreUserSession {
  role?: string
  [key: string]: unknown
}

/**
 * One shared backend (a memory store) as several processes see it: each process's subscription can
 * hold events back (a slow event connection) or report a gap, as a Redis or PostgreSQL store does.
 */
function sharedBackend(clock: TestClock) {
  const backend = createMemoryStore<Session>({ clock: clock.now, sweepInterval: 0 })
  const process = () => {
    const listeners = new Set<SessionEventListener>()
    const held: SessionEvent[] = []
    let holding = false
    backend.subscribe((event) => {
      if (holding) held.push(event)
      else for (const listener of listeners) listener(event)
    })
    const view: SessionStore<Session> = {
      ...backend,
      subscribe(listener) {
        listeners.add(listener)
        return () => listeners.delete(listener)
      },
    }
    return {
      view,
      hold() {
        holding = true
      },
      release() {
        holding = false
        for (const event of held.splice(0)) for (const listener of listeners) listener(event)
      },
      emit(event: SessionEvent) {
        for (const listener of listeners) listener(event)
      },
    }
  }
  return { backend, process }
}

function record(clock: TestClock, overrides: Partial<SessionRecord<Session>> = {}): SessionRecord<Session> {
  const userId = overrides.userId ?? 'alice'
  return {
    id: hashSessionToken(generateSessionToken()),
    userId,
    data: { userId, role: 'user' },
    version: 1,
    createdAt: clock.now(),
    lastActiveAt: clock.now(),
    expiresAt: clock.now() + 30 * MINUTE,
    ...overrides,
  }
}

/** Lets the cache see its confirmed event delivery (a resolved promise's callback). */
const confirmed = () => new Promise((resolve) => setImmediate(resolve))

function getCalls(store: { calls: { method: string }[] }): number {
  return store.calls.filter((call) => call.method === 'get').length
}

describe('the session read cache', () => {
  it('answers a repeated read from memory, without a store call', async () => {
    const clock = createTestClock()
    const { backend, process } = sharedBackend(clock)
    const inner = recordingStore(process().view)
    const cached = cacheSessionStore(inner, {}, { clock: clock.now })
    await confirmed()
    const stored = record(clock)
    await backend.set(stored)
    expect((await cached.get(stored.id))?.data.role).toBe('user')
    expect((await cached.get(stored.id))?.data.role).toBe('user')
    expect(getCalls(inner)).toBe(1)
    expect(cached.cache).toMatchObject({ hits: 1, misses: 1, size: 1, active: true })
  })

  it('hands out frozen records, so no reader can change what the next one gets', async () => {
    const clock = createTestClock()
    const { backend, process } = sharedBackend(clock)
    const cached = cacheSessionStore(process().view, {}, { clock: clock.now })
    await confirmed()
    const stored = record(clock, { data: { userId: 'alice', tags: ['a'] } })
    await backend.set(stored)
    const first = await cached.get(stored.id)
    expect(() => (first!.data['tags'] as string[]).push('b')).toThrow(TypeError)
    expect((await cached.get(stored.id))?.data['tags']).toEqual(['a'])
  })

  it('sees a logout made by another process as soon as its event arrives', async () => {
    const clock = createTestClock()
    const { backend, process } = sharedBackend(clock)
    const cached = cacheSessionStore(process().view, {}, { clock: clock.now })
    await confirmed()
    const stored = record(clock)
    await backend.set(stored)
    await cached.get(stored.id)
    // Another process (writing straight to the backend) logs the session out.
    await backend.delete(stored.id, 'revoked')
    expect(await cached.get(stored.id)).toBeUndefined()
  })

  it('drops a record changed by another process, even a renewal that keeps its version', async () => {
    const clock = createTestClock()
    const { backend, process } = sharedBackend(clock)
    const inner = recordingStore(process().view)
    const cached = cacheSessionStore(inner, {}, { clock: clock.now })
    await confirmed()
    const stored = record(clock)
    await backend.set(stored)
    await cached.get(stored.id)
    clock.advance(MINUTE)
    await backend.touch(stored.id, clock.now(), clock.now() + 30 * MINUTE)
    expect((await cached.get(stored.id))?.lastActiveAt).toBe(clock.now())
    expect(getCalls(inner)).toBe(2)
  })

  it('is bypassed until the store confirms its event delivery', async () => {
    const clock = createTestClock()
    const { backend, process } = sharedBackend(clock)
    const inner = recordingStore(process().view)
    let confirm: () => void = () => undefined
    const cached = cacheSessionStore(inner, {}, { clock: clock.now, eventsConfirmed: () => new Promise<void>((resolve) => (confirm = resolve)) })
    const stored = record(clock)
    await backend.set(stored)
    await cached.get(stored.id)
    await cached.get(stored.id)
    expect(getCalls(inner)).toBe(2)
    expect(cached.cache).toMatchObject({ active: false, size: 0, bypassed: 2 })
    confirm()
    await confirmed()
    await cached.get(stored.id)
    await cached.get(stored.id)
    expect(getCalls(inner)).toBe(3)
  })

  it('answers nothing from memory between interrupted and resync, and starts empty after it', async () => {
    const clock = createTestClock()
    const { backend, process } = sharedBackend(clock)
    const events = process()
    const inner = recordingStore(events.view)
    const cached = cacheSessionStore(inner, {}, { clock: clock.now })
    await confirmed()
    const stored = record(clock)
    await backend.set(stored)
    await cached.get(stored.id)
    events.emit({ type: 'interrupted' })
    expect(cached.cache.size).toBe(0)
    expect(cached.cache.active).toBe(false)
    // A logout made during the gap, whose event this process never gets.
    events.hold()
    await backend.delete(stored.id, 'revoked')
    expect(await cached.get(stored.id)).toBeUndefined()
    // While the store is unreachable too, reads fail (503) rather than answer from memory.
    inner.failWith = new Error('unreachable')
    await expect(cached.get(stored.id)).rejects.toThrow('unreachable')
    inner.failWith = undefined
    const other = record(clock)
    await backend.set(other)
    await cached.get(other.id)
    expect(cached.cache.size).toBe(0)
    events.emit({ type: 'resync' })
    expect(cached.cache.active).toBe(true)
    await cached.get(other.id)
    await cached.get(other.id)
    expect(cached.cache).toMatchObject({ size: 1, hits: 1 })
  })

  it('does not keep a read that a deletion overtook while it was in flight', async () => {
    const clock = createTestClock()
    const { backend, process } = sharedBackend(clock)
    const view = process().view
    let pause: Promise<void> | undefined
    // The store's answer is made before the deletion but arrives after its event.
    const slow: SessionStore<Session> = {
      ...view,
      async get(id) {
        const found = await view.get(id)
        await pause
        return found
      },
    }
    const cached = cacheSessionStore(slow, {}, { clock: clock.now })
    await confirmed()
    const stored = record(clock)
    await backend.set(stored)
    let resume: () => void = () => undefined
    pause = new Promise((resolve) => (resume = resolve))
    const reading = cached.get(stored.id)
    await confirmed()
    await backend.delete(stored.id, 'revoked')
    resume()
    expect(await reading).toBeDefined()
    pause = undefined
    expect(await cached.get(stored.id)).toBeUndefined()
  })

  it('tracks reads in flight of ids that are also names of object members (__proto__, constructor)', async () => {
    const clock = createTestClock()
    const { backend, process } = sharedBackend(clock)
    const view = process().view
    let pause: Promise<void> | undefined
    const slow: SessionStore<Session> = {
      ...view,
      async get(id) {
        const found = await view.get(id)
        await pause
        return found
      },
    }
    const cached = cacheSessionStore(slow, {}, { clock: clock.now })
    await confirmed()
    for (const id of ['__proto__', 'constructor', 'hasOwnProperty']) {
      const stored = record(clock, { id })
      await backend.set(stored)
      let resume: () => void = () => undefined
      pause = new Promise((resolve) => (resume = resolve))
      const reading = cached.get(id)
      await confirmed()
      await backend.delete(id, 'revoked')
      resume()
      expect(await reading).toEqual(stored)
      pause = undefined
      expect(await cached.get(id)).toBeUndefined()
    }
  })

  it('never lets an older version it wrote replace a newer one written elsewhere', async () => {
    const clock = createTestClock()
    const { backend, process } = sharedBackend(clock)
    const view = process().view
    let pause: Promise<void> | undefined
    const slow: SessionStore<Session> = {
      ...view,
      async update(id, expectedVersion, change) {
        const result = await view.update(id, expectedVersion, change)
        await pause
        return result
      },
    }
    const cached = cacheSessionStore(slow, {}, { clock: clock.now })
    await confirmed()
    const stored = record(clock)
    await backend.set(stored)
    await cached.get(stored.id)
    let resume: () => void = () => undefined
    pause = new Promise((resolve) => (resume = resolve))
    // This process writes version 2; its acknowledgement arrives after another process wrote 3.
    const writing = cached.update(stored.id, 1, { data: { userId: 'alice', role: 'mine' }, lastActiveAt: clock.now(), expiresAt: stored.expiresAt })
    await confirmed()
    expect(await backend.update(stored.id, 2, { data: { userId: 'alice', role: 'theirs' }, lastActiveAt: clock.now(), expiresAt: stored.expiresAt })).toBe('ok')
    resume()
    expect(await writing).toBe('ok')
    const latest = await cached.get(stored.id)
    expect(latest).toMatchObject({ version: 3, data: { role: 'theirs' } })
  })

  it('keeps what this process wrote, so the next read needs no store call', async () => {
    const clock = createTestClock()
    const { backend, process } = sharedBackend(clock)
    const inner = recordingStore(process().view)
    const cached = cacheSessionStore(inner, {}, { clock: clock.now })
    await confirmed()
    const stored = record(clock)
    await backend.set(stored)
    await cached.get(stored.id)
    expect(await cached.update(stored.id, 1, { data: { userId: 'alice', role: 'admin' }, lastActiveAt: clock.now(), expiresAt: stored.expiresAt })).toBe('ok')
    expect(await cached.get(stored.id)).toMatchObject({ version: 2, data: { role: 'admin' } })
    expect(getCalls(inner)).toBe(1)
    clock.advance(MINUTE)
    expect(await cached.touch(stored.id, clock.now(), clock.now() + 30 * MINUTE)).toBe(true)
    expect(await cached.get(stored.id)).toMatchObject({ version: 2, lastActiveAt: clock.now() })
    expect(getCalls(inner)).toBe(1)
  })

  it('sends every versioned write to the store, and a conflict makes the next read fetch the newer record', async () => {
    const clock = createTestClock()
    const { backend, process } = sharedBackend(clock)
    const events = process()
    const inner = recordingStore(events.view)
    const cached = cacheSessionStore(inner, {}, { clock: clock.now })
    await confirmed()
    const stored = record(clock)
    await backend.set(stored)
    await cached.get(stored.id)
    // Another process's change whose event is still on its way: the cache is briefly behind.
    events.hold()
    await backend.update(stored.id, 1, { data: { userId: 'alice', role: 'theirs' }, lastActiveAt: clock.now(), expiresAt: stored.expiresAt })
    expect((await cached.get(stored.id))?.version).toBe(1)
    expect(await cached.update(stored.id, 1, { data: { userId: 'alice', role: 'mine' }, lastActiveAt: clock.now(), expiresAt: stored.expiresAt })).toBe('conflict')
    expect(await cached.get(stored.id)).toMatchObject({ version: 2, data: { role: 'theirs' } })
    events.release()
  })

  it('retries a session manager write on the newer record after a conflict', async () => {
    const clock = createTestClock()
    const { backend, process } = sharedBackend(clock)
    const events = process()
    const cached = cacheSessionStore(events.view, {}, { clock: clock.now })
    await confirmed()
    const sessions = createSessionManager({ store: cached, clock: clock.now })
    const state = sessions.createState()
    await state.set({ userId: 'alice', role: 'user' })
    const created = await sessions.commit(state)
    if (created.kind !== 'created') throw new Error('expected a login')
    const loaded = await sessions.loadByToken(created.token)
    events.hold()
    await backend.update(loaded!.id, 1, { data: { userId: 'alice', role: 'user', theirs: true }, lastActiveAt: clock.now(), expiresAt: loaded!.expiresAt })
    const mine = sessions.createState(await sessions.loadByToken(created.token))
    await mine.update({ mine: true })
    expect((await sessions.commit(mine)).kind).toBe('updated')
    expect((await backend.get(loaded!.id))?.data).toMatchObject({ theirs: true, mine: true })
    events.release()
  })

  it('never answers with a record past its own expiry', async () => {
    const clock = createTestClock()
    const { backend, process } = sharedBackend(clock)
    const cached = cacheSessionStore(process().view, {}, { clock: clock.now })
    await confirmed()
    const stored = record(clock, { expiresAt: clock.now() + MINUTE })
    await backend.set(stored)
    await cached.get(stored.id)
    clock.advance(MINUTE)
    expect(await cached.get(stored.id)).toBeUndefined()
  })

  it('holds at most maxEntries records however many sessions are read', async () => {
    const clock = createTestClock()
    const expiresAt = clock.now() + 30 * MINUTE
    // A store that knows every id: a million distinct sessions without a million stored ones.
    const everything: SessionStore<Session> = {
      ...createMemoryStore<Session>({ sweepInterval: 0 }),
      get: (id) => Promise.resolve({ id, userId: 'u', data: { userId: 'u' }, version: 1, createdAt: clock.now(), lastActiveAt: clock.now(), expiresAt }),
    }
    const cached = cacheSessionStore(everything, { maxEntries: 1_000 }, { clock: clock.now })
    await confirmed()
    let largest = 0
    for (let i = 0; i < 1_000_000; i++) {
      await cached.get(`session-${i}`)
      if (cached.cache.size > largest) largest = cached.cache.size
    }
    expect(largest).toBe(1_000)
    expect(cached.cache.misses).toBe(1_000_000)
    // A million reads take a few seconds, more on a loaded machine: this counts entries, it times nothing.
  }, 120_000)

  it('refuses options that would make an unbounded or empty cache', () => {
    const store = createMemoryStore({ sweepInterval: 0 })
    expect(() => cacheSessionStore(store, { maxEntries: 0 })).toThrow('cache.maxEntries must be a whole number, 1 or more; got 0')
    expect(() => cacheSessionStore(store, { maxEntries: Number.POSITIVE_INFINITY })).toThrow(RangeError)
  })

  it('keeps the wrapped store’s own members', async () => {
    const memory = createMemoryStore({ sweepInterval: 0 })
    const cached = cacheSessionStore(memory)
    const clock = createTestClock(Date.now())
    await cached.set(record(clock))
    expect(cached.size).toBe(1)
    expect(await cached.sweep()).toBe(0)
  })
})
