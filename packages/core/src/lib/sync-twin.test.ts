import { describe, expect, it } from 'vitest'
import { createMemoryStore } from './memory-store.js'
import type { CoreUserSession } from './register.js'
import { cacheSessionStore } from './session-cache.js'
import { createSessionManager, type SessionManager } from './session-manager.js'
import type { SessionEvent, SessionEventListener, SessionStore } from './session-store.js'
import { syncTwinOf } from './sync-twin.js'
import { createTestClock, type TestClock } from './test-clock.js'

const MINUTE = 60_000

async function logIn(manager: SessionManager<CoreUserSession>, userId = 'alice'): Promise<string> {
  const state = manager.createState()
  await state.set({ userId })
  const result = await manager.commit(state)
  if (result.kind !== 'created') throw new Error(`expected a login, got ${result.kind}`)
  return result.token
}

/** A memory store whose event subscribers the test can also send events to, as a store's connection would. */
function storeWithEvents(clock: TestClock): { store: SessionStore<CoreUserSession>; emit(event: SessionEvent): void } {
  const inner = createMemoryStore({ clock: clock.now, sweepInterval: 0 })
  const listeners = new Set<SessionEventListener>()
  return {
    store: {
      ...inner,
      subscribe(listener) {
        listeners.add(listener)
        const unsubscribe = inner.subscribe(listener)
        return () => {
          listeners.delete(listener)
          unsubscribe()
        }
      },
    },
    emit(event) {
      for (const listener of listeners) listener(event)
    },
  }
}

describe('reading a session held in this process without a promise', () => {
  it('answers a live session of the memory store at once, with what loadByToken resolves with', async () => {
    const clock = createTestClock()
    const manager = createSessionManager({ store: createMemoryStore({ clock: clock.now, sweepInterval: 0 }), clock: clock.now })
    const token = await logIn(manager)
    const now = syncTwinOf(manager.loadByToken)
    expect(now).toBeDefined()
    expect(now!(token)).toEqual(await manager.loadByToken(token))
    expect(now!(token)?.userId).toBe('alice')
    expect(now!('not-a-token')).toBeUndefined()
    expect(now!(undefined)).toBeUndefined()
  })

  it('leaves a session past a timeout shortened in configuration to loadByToken, which deletes it and reports it expired', async () => {
    const clock = createTestClock()
    const events: string[] = []
    const store = createMemoryStore({ clock: clock.now, sweepInterval: 0 })
    const token = await logIn(createSessionManager({ store, clock: clock.now, idleTimeout: 60 * MINUTE }))
    const stricter = createSessionManager({ store, clock: clock.now, idleTimeout: 10 * MINUTE, onEvent: (event) => void events.push(event.type) })
    clock.advance(10 * MINUTE)
    expect(syncTwinOf(stricter.loadByToken)!(token)).toBeUndefined()
    expect(await stricter.loadByToken(token)).toBeUndefined()
    await new Promise((resolve) => setImmediate(resolve))
    expect(events).toEqual(['expired'])
    expect(await store.listByUser('alice')).toEqual([])
  })

  it('never bypasses a store wrapper that replaces get: a read it refuses stays refused', async () => {
    const inner = createMemoryStore({ sweepInterval: 0 })
    let refuse = false
    const wrapper: SessionStore<CoreUserSession> = { ...inner, get: (id) => (refuse ? Promise.resolve(undefined) : inner.get(id)) }
    const manager = createSessionManager({ store: wrapper })
    const token = await logIn(manager)
    expect(syncTwinOf(manager.loadByToken)).toBeUndefined()
    refuse = true
    expect(await manager.loadByToken(token)).toBeUndefined()
  })

  it('never bypasses a session manager wrapper that replaces loadByToken', async () => {
    const manager = createSessionManager({ store: createMemoryStore({ sweepInterval: 0 }) })
    const traced: SessionManager<CoreUserSession> = Object.create(manager) as SessionManager<CoreUserSession>
    Object.assign(traced, { loadByToken: (token: string | undefined) => manager.loadByToken(token) })
    expect(syncTwinOf(manager.loadByToken)).toBeDefined()
    expect(syncTwinOf(traced.loadByToken)).toBeUndefined()
  })

  it('answers a read-cache hit at once only while the cache is active, and nothing once an interruption empties it', async () => {
    const clock = createTestClock()
    const { store, emit } = storeWithEvents(clock)
    let confirm: () => void = () => undefined
    const cached = cacheSessionStore(store, {}, { clock: clock.now, eventsConfirmed: () => new Promise<void>((resolve) => (confirm = resolve)) })
    const manager = createSessionManager({ store: cached, clock: clock.now })
    const now = syncTwinOf(manager.loadByToken)!
    const token = await logIn(manager)
    await manager.loadByToken(token)
    // Before the event delivery is confirmed, nothing is answered from memory.
    expect(now(token)).toBeUndefined()
    confirm()
    await new Promise((resolve) => setImmediate(resolve))
    expect(await manager.loadByToken(token)).toBeDefined()
    const hits = cached.cache.hits
    expect(now(token)?.userId).toBe('alice')
    expect(cached.cache.hits).toBe(hits + 1)
    emit({ type: 'interrupted' })
    expect(now(token)).toBeUndefined()
    emit({ type: 'resync' })
    expect(now(token)).toBeUndefined()
  })

  it('answers nothing at once for a cached session that another process logged out', async () => {
    const clock = createTestClock()
    const { store, emit } = storeWithEvents(clock)
    const cached = cacheSessionStore(store, {}, { clock: clock.now })
    const manager = createSessionManager({ store: cached, clock: clock.now })
    const token = await logIn(manager)
    await new Promise((resolve) => setImmediate(resolve))
    const record = await manager.loadByToken(token)
    expect(syncTwinOf(manager.loadByToken)!(token)).toBeDefined()
    emit({ type: 'deleted', id: record!.id, userId: 'alice', reason: 'revoked' })
    expect(syncTwinOf(manager.loadByToken)!(token)).toBeUndefined()
  })

  it('leaves a cached session past its own expiry to the store', async () => {
    const clock = createTestClock()
    const { store } = storeWithEvents(clock)
    const cached = cacheSessionStore(store, {}, { clock: clock.now })
    const manager = createSessionManager({ store: cached, clock: clock.now, idleTimeout: 10 * MINUTE })
    const token = await logIn(manager)
    await new Promise((resolve) => setImmediate(resolve))
    await manager.loadByToken(token)
    clock.advance(10 * MINUTE)
    expect(syncTwinOf(manager.loadByToken)!(token)).toBeUndefined()
    expect(await manager.loadByToken(token)).toBeUndefined()
  })
})
