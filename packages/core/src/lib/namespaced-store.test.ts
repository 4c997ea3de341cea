import { describe, expect, it } from 'vitest'
import { createMemoryStore } from './memory-store.js'
import { createNamespacedStore } from './namespaced-store.js'
import type { CoreUserSession } from './register.js'
import { createSessionManager } from './session-manager.js'
import type { SessionEvent, SessionRecord } from './session-store.js'
import { createTestClock } from './test-clock.js'

const MINUTE = 60_000

function record(id: string, userId: string, now: number): SessionRecord<CoreUserSession> {
  return { id, userId, data: { userId }, version: 1, createdAt: now, lastActiveAt: now, expiresAt: now + 30 * MINUTE }
}

describe('a namespaced view keeps its records apart from user sessions', () => {
  it("the user's own session list, lookups and 'log out everywhere' never see the view's records", async () => {
    const clock = createTestClock()
    const store = createMemoryStore({ clock: clock.now, sweepInterval: 0 })
    const mcp = createNamespacedStore(store, 'mcp')
    await store.set(record('user-session', 'alice', clock.now()))
    await mcp.set(record('protocol-session', 'alice', clock.now()))

    expect((await store.listByUser('alice')).map((r) => r.id)).toEqual(['user-session'])
    expect(await store.get('protocol-session')).toBeUndefined()
    expect((await mcp.listByUser('alice')).map((r) => r.id)).toEqual(['protocol-session'])
    expect(await mcp.get('user-session')).toBeUndefined()

    expect(await store.deleteByUser('alice')).toBe(1)
    expect(await mcp.get('protocol-session')).toBeDefined()
    expect(await mcp.deleteByUser('alice')).toBe(1)
  })

  it('hands out records and events with its own ids, and only its own', async () => {
    const clock = createTestClock()
    const store = createMemoryStore({ clock: clock.now, sweepInterval: 0 })
    const mcp = createNamespacedStore(store, 'mcp')
    const other = createNamespacedStore(store, 'oauth')
    const seen: SessionEvent[] = []
    mcp.subscribe((event) => seen.push(event))
    await store.set(record('user-session', 'alice', clock.now()))
    await other.set(record('grant', 'alice', clock.now()))
    await mcp.set(record('protocol-session', 'alice', clock.now()))
    await store.delete('user-session', 'revoked')
    await other.delete('grant', 'revoked')
    await mcp.delete('protocol-session', 'cleared')
    expect(seen.filter((event) => event.type === 'deleted')).toEqual([{ type: 'deleted', id: 'protocol-session', userId: 'alice', reason: 'cleared' }])
    expect(await mcp.get('protocol-session')).toBeUndefined()
  })

  it('a session manager over the view mints, loads and revokes sessions that user-session lookups cannot find', async () => {
    const clock = createTestClock()
    const store = createMemoryStore({ clock: clock.now, sweepInterval: 0 })
    const users = createSessionManager({ store, clock: clock.now })
    const protocol = createSessionManager({ store: createNamespacedStore(store, 'mcp'), clock: clock.now, idleTimeout: 60 * MINUTE })
    const state = protocol.createState()
    await state.set({ userId: 'alice' })
    const created = await protocol.commit(state)
    if (created.kind !== 'created') throw new Error(`expected a created session, got ${created.kind}`)
    expect((await protocol.loadByToken(created.token))?.userId).toBe('alice')
    // The same token presented as a user credential finds nothing.
    expect(await users.loadByToken(created.token)).toBeUndefined()
    expect(await users.listUserSessions('alice')).toEqual([])
    clock.advance(60 * MINUTE)
    expect(await protocol.loadByToken(created.token)).toBeUndefined()
  })

  it('refuses a namespace that is not a short name, and a missing store', () => {
    const store = createMemoryStore({ sweepInterval: 0 })
    expect(() => createNamespacedStore(store, 'MCP:')).toThrow(/namespace must be a short lower-case name/)
    expect(() => createNamespacedStore(store, '')).toThrow(/namespace/)
    expect(() => createNamespacedStore(undefined as never, 'mcp')).toThrow(/needs a SessionStore/)
  })
})
