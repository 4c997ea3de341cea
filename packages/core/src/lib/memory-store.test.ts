import { afterEach, describe, expect, it, vi } from 'vitest'
import { createMemoryStore } from './memory-store.js'
import type { CoreUserSession } from './register.js'
import type { SessionEvent, SessionRecord } from './session-store.js'
import { createTestClock } from './test-clock.js'

const MINUTE = 60_000

function record(id: string, now: number, lifetime = 30 * MINUTE, userId = 'alice'): SessionRecord<CoreUserSession> {
  return { id, userId, data: { userId }, version: 1, createdAt: now, lastActiveAt: now, expiresAt: now + lifetime }
}

describe('the memory store stays bounded', () => {
  afterEach(() => {
    vi.useRealTimers()
    vi.restoreAllMocks()
  })

  it('beyond maxEntries the oldest session is evicted and announced as evicted', async () => {
    const clock = createTestClock()
    const store = createMemoryStore({ clock: clock.now, sweepInterval: 0, maxEntries: 3 })
    const events: SessionEvent[] = []
    store.subscribe((event) => {
      if (event.type === 'deleted') events.push(event)
    })
    for (const id of ['s1', 's2', 's3', 's4', 's5']) await store.set(record(id, clock.now()))
    expect(store.size).toBe(3)
    expect(await store.get('s1')).toBeUndefined()
    expect(await store.get('s2')).toBeUndefined()
    expect(await store.get('s5')).toBeDefined()
    expect(events).toEqual([
      { type: 'deleted', id: 's1', userId: 'alice', reason: 'evicted' },
      { type: 'deleted', id: 's2', userId: 'alice', reason: 'evicted' },
    ])
    expect((await store.listByUser('alice')).map((r) => r.id)).toEqual(['s3', 's4', 's5'])
  })

  it('keeps at most 10,000 sessions by default, so a flood of logins cannot exhaust memory', async () => {
    const clock = createTestClock()
    const store = createMemoryStore({ clock: clock.now, sweepInterval: 0 })
    const evicted: SessionEvent[] = []
    store.subscribe((event) => {
      if (event.type === 'deleted') evicted.push(event)
    })
    for (let i = 0; i <= 10_000; i++) await store.set(record(`s${i}`, clock.now()))
    expect(store.size).toBe(10_000)
    expect(evicted).toEqual([{ type: 'deleted', id: 's0', userId: 'alice', reason: 'evicted' }])
    expect(await store.get('s10000')).toBeDefined()
  })

  it('evicts the least recently active session: an update or a renewal counts as use, a read does not', async () => {
    const clock = createTestClock()
    const store = createMemoryStore({ clock: clock.now, sweepInterval: 0, maxEntries: 3 })
    const evicted: string[] = []
    store.subscribe((event) => {
      if (event.type === 'deleted') evicted.push(`${event.id}:${event.reason}`)
    })
    for (const id of ['s1', 's2', 's3']) await store.set(record(id, clock.now()))
    const now = clock.now()
    expect(await store.update('s1', 1, { data: { userId: 'alice' }, lastActiveAt: now, expiresAt: now + MINUTE })).toBe('ok')
    expect(await store.touch('s2', now, now + MINUTE)).toBe(true)
    await store.get('s3')
    await store.set(record('s4', now))
    expect(evicted).toEqual(['s3:evicted'])
    await store.set(record('s5', now))
    expect(evicted).toEqual(['s3:evicted', 's1:evicted'])
  })

  it('a session evicted after its expiry is announced as expired, not evicted', async () => {
    const clock = createTestClock()
    const store = createMemoryStore({ clock: clock.now, sweepInterval: 0, maxEntries: 1 })
    const events: SessionEvent[] = []
    store.subscribe((event) => events.push(event))
    await store.set(record('short', clock.now(), MINUTE))
    clock.advance(MINUTE)
    await store.set(record('next', clock.now()))
    expect(events).toContainEqual({ type: 'deleted', id: 'short', userId: 'alice', reason: 'expired' })
  })

  it('sweep() removes expired sessions, announces them, and keeps live ones', async () => {
    const clock = createTestClock()
    const store = createMemoryStore({ clock: clock.now, sweepInterval: 0, sweepBatchSize: 2 })
    const events: SessionEvent[] = []
    store.subscribe((event) => events.push(event))
    for (let i = 0; i < 5; i++) await store.set(record(`short${i}`, clock.now(), MINUTE))
    await store.set(record('long', clock.now(), 60 * MINUTE))
    clock.advance(MINUTE)
    expect(store.size).toBe(6)
    expect(await store.sweep()).toBe(5)
    expect(store.size).toBe(1)
    expect(events.filter((event) => event.type === 'deleted' && event.reason === 'expired')).toHaveLength(5)
    expect(await store.get('long')).toBeDefined()
    expect(await store.sweep()).toBe(0)
  })

  it('the sweep timer removes expired sessions without anyone reading them', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'setImmediate'] })
    const clock = createTestClock()
    const store = createMemoryStore({ clock: clock.now, sweepInterval: 10_000 })
    await store.set(record('short', clock.now(), MINUTE))
    clock.advance(MINUTE)
    expect(store.size).toBe(1)
    await vi.advanceTimersByTimeAsync(10_000)
    expect(store.size).toBe(0)
    await store.close?.()
  })

  it('the sweep timer does not keep the process alive, and close() stops it', async () => {
    const setIntervalSpy = vi.spyOn(globalThis, 'setInterval')
    const clearIntervalSpy = vi.spyOn(globalThis, 'clearInterval')
    const store = createMemoryStore({ sweepInterval: 1_000 })
    expect(setIntervalSpy).toHaveBeenCalledTimes(1)
    const timer = setIntervalSpy.mock.results[0]?.value as NodeJS.Timeout
    expect(timer.hasRef()).toBe(false)
    await store.close?.()
    expect(clearIntervalSpy).toHaveBeenCalledWith(timer)
  })

  it('no timer at all with sweepInterval 0', () => {
    const setIntervalSpy = vi.spyOn(globalThis, 'setInterval')
    createMemoryStore({ sweepInterval: 0 })
    expect(setIntervalSpy).not.toHaveBeenCalled()
  })

  it('a closed store refuses to work rather than losing writes silently', async () => {
    const store = createMemoryStore({ sweepInterval: 0 })
    await store.close?.()
    await expect(store.set(record('s1', Date.now()))).rejects.toThrow(/closed/)
  })

  it('refuses nonsensical options when created', () => {
    expect(() => createMemoryStore({ maxEntries: 0 })).toThrow(/maxEntries must be at least 1/)
    expect(() => createMemoryStore({ maxEntries: 2.5 })).toThrow(/maxEntries must be at least 1 \(a whole number/)
    expect(() => createMemoryStore({ maxEntries: Number.NaN })).toThrow(/maxEntries/)
    expect(createMemoryStore({ maxEntries: Number.POSITIVE_INFINITY, sweepInterval: 0 }).size).toBe(0)
    expect(() => createMemoryStore({ sweepInterval: -1 })).toThrow(/sweepInterval/)
    expect(() => createMemoryStore({ sweepBatchSize: 0 })).toThrow(/sweepBatchSize/)
  })
})

describe('the memory store shares one frozen value per session', () => {
  it('an update copies only the fields it changed: an unchanged field keeps its stored object', async () => {
    const clock = createTestClock()
    const store = createMemoryStore<CoreUserSession & { history: number[]; prefs: { theme: string } }>({ clock: clock.now, sweepInterval: 0 })
    const now = clock.now()
    const history = Array.from({ length: 1000 }, (_, i) => i)
    await store.set({ id: 's1', userId: 'alice', data: { userId: 'alice', history, prefs: { theme: 'light' } }, version: 1, createdAt: now, lastActiveAt: now, expiresAt: now + MINUTE })
    const before = (await store.get('s1'))!
    expect(before.data.history).not.toBe(history)
    const prefs = { theme: 'dark' }
    expect(await store.update('s1', 1, { data: { ...before.data, prefs }, lastActiveAt: now, expiresAt: now + MINUTE })).toBe('ok')
    const after = (await store.get('s1'))!
    expect(after.data.history).toBe(before.data.history)
    expect(after.data.prefs).toEqual({ theme: 'dark' })
    expect(after.data.prefs).not.toBe(prefs)
    expect(Object.isFrozen(after.data) && Object.isFrozen(after.data.prefs)).toBe(true)
  })
})
