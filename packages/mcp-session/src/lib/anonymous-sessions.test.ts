import { createMemoryStore, type SessionStore } from '@pikku/core'
import { resolveSessionLifetime } from '@pikku/core/protocol'
import { createTestClock } from '@pikku/core/testing'
import { describe, expect, it } from 'vitest'
import { mcpSessionStorageId } from '../index.js'
import { type AnonymousEntry, createAnonymousSessions } from './anonymous-sessions.js'
import {
  ALICE,
  createTestApp,
  httpStatusOf,
  initializeBody,
  perTest,
  rawPost,
  type TestApp,
  type TestServer,
} from './test-app.test-support.js'

const { setup: setupWith, client } = perTest()

/** A memory store that counts the writes it is asked for. */
function countingStore(clock: TestApp['clock']): SessionStore & { writes: string[] } {
  const inner = createMemoryStore({ clock: clock.now, sweepInterval: 0 })
  const writes: string[] = []
  return {
    ...inner,
    writes,
    set: (record) => {
      writes.push(`set ${record.id}`)
      return inner.set(record)
    },
    update: (id, version, change) => {
      writes.push(`update ${id}`)
      return inner.update(id, version, change)
    },
    touch: (id, lastActiveAt, expiresAt) => {
      writes.push(`touch ${id}`)
      return inner.touch(id, lastActiveAt, expiresAt)
    },
  }
}

async function setup(options: Parameters<typeof setupWith>[0] = {}): Promise<{ app: TestApp; server: TestServer; store: ReturnType<typeof countingStore> }> {
  const clock = createTestApp().clock
  const store = countingStore(clock)
  const { app, server } = await setupWith(options, createTestApp({ clock, store }))
  return { app, server, store }
}


async function initializeRaw(server: TestServer): Promise<string> {
  const response = await rawPost(server.mcpUrl, initializeBody())
  await response.arrayBuffer()
  expect(response.status).toBe(200)
  return response.headers.get('mcp-session-id')!
}

const LIST = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' })

describe('anonymous MCP sessions', () => {
  it('cost the session store nothing: initialize and use write no record', async () => {
    const { server, store } = await setup()
    for (let i = 0; i < 50; i++) await initializeRaw(server)
    const agent = await client(server.mcpUrl)
    await agent.call('getPublicData')
    expect(await agent.toolNames()).toContain('login')
    expect(store.writes).toEqual([])
    expect(await store.get(mcpSessionStorageId(agent.transport.sessionId!))).toBeUndefined()
    expect(server.handler.anonymousSessions).toBe(51)
  })

  it('move to the store when an in-band login binds them, so any process can serve them', async () => {
    const { server, store } = await setup()
    const agent = await client(server.mcpUrl)
    await agent.call('login', ALICE)
    const stored = await store.get(mcpSessionStorageId(agent.transport.sessionId!))
    expect(stored?.data).toMatchObject({ kind: 'mcp-session', boundUserId: 'u-alice', ownedVia: 'login' })
    expect(server.handler.anonymousSessions).toBe(0)
    expect((await agent.call('getProfile')).structuredContent).toMatchObject({ userId: 'u-alice' })
  })

  it('are bounded: past the limit the least recently used one ends (404) and the others carry on', async () => {
    const { server } = await setup({ session: { anonymous: { max: 3 } } })
    const [first, second, third] = [await initializeRaw(server), await initializeRaw(server), await initializeRaw(server)]
    // Using the first makes the second the least recently used.
    expect((await rawPost(server.mcpUrl, LIST, { 'mcp-session-id': first! })).status).toBe(200)
    const fourth = await initializeRaw(server)
    expect(server.handler.anonymousSessions).toBe(3)
    expect((await rawPost(server.mcpUrl, LIST, { 'mcp-session-id': second! })).status).toBe(404)
    for (const id of [first, third, fourth]) expect((await rawPost(server.mcpUrl, LIST, { 'mcp-session-id': id! })).status).toBe(200)
  })

  it('end after their idle timeout (404), and the sweep forgets them', async () => {
    const { server, app } = await setup({ session: { anonymous: { idleTimeout: 5 * 60_000 } } })
    const idle = await initializeRaw(server)
    const busy = await initializeRaw(server)
    app.clock.advance(4 * 60_000)
    expect((await rawPost(server.mcpUrl, LIST, { 'mcp-session-id': busy })).status).toBe(200)
    app.clock.advance(60_000)
    expect(await server.handler.sweep()).toBe(1)
    expect(server.handler.anonymousSessions).toBe(1)
    expect((await rawPost(server.mcpUrl, LIST, { 'mcp-session-id': idle })).status).toBe(404)
    expect((await rawPost(server.mcpUrl, LIST, { 'mcp-session-id': busy })).status).toBe(200)
  })

  it('are unknown to another process sharing the store (404: the client initializes again there)', async () => {
    const { app, server } = await setup()
    const { server: other } = await setupWith({}, createTestApp({ clock: app.clock, store: app.store }))
    const agent = await client(server.mcpUrl)
    expect(await httpStatusOf(client(other.mcpUrl, { sessionId: agent.transport.sessionId! }).then((elsewhere) => elsewhere.toolNames()))).toBe(404)
  })

  it('evicted with a request in flight: the request is answered with an error, not left hanging', async () => {
    const { server, app } = await setup({ session: { anonymous: { max: 1 } } })
    const agent = await client(server.mcpUrl)
    const pending = agent.client.callTool({ name: 'slow', arguments: {} }, undefined, { timeout: 5_000 }).catch((error: unknown) => error)
    await expect.poll(() => app.gate.waiting).toBe(1)
    await initializeRaw(server)
    await expect.poll(() => server.handler.openTransports).toBe(0)
    expect(await pending).toBeInstanceOf(Error)
    app.gate.open()
  })
})

describe('the in-memory map of anonymous sessions', () => {
  const record = (id: string, now: number): AnonymousEntry => ({ id, createdAt: now, lastActiveAt: now })
  const lifetime = (idleTimeout: number, absoluteTimeout: number) => resolveSessionLifetime({ idleTimeout, absoluteTimeout, renewalInterval: 0 })

  it('evicts least recently used first, tells about every eviction, and not about take or delete', () => {
    const clock = createTestClock()
    const evicted: string[] = []
    const map = createAnonymousSessions({ max: 2, lifetime: lifetime(1_000, 10_000), clock: clock.now, onEvict: (id) => evicted.push(id) })
    map.add(record('a', clock.now()))
    map.add(record('b', clock.now()))
    map.touch('a')
    map.add(record('c', clock.now()))
    expect(evicted).toEqual(['b'])
    expect(map.take('a')?.id).toBe('a')
    expect(map.delete('c')).toBe(true)
    expect(map.delete('c')).toBe(false)
    expect(evicted).toEqual(['b'])
    expect(map.size).toBe(0)
  })

  it('ends a session at its absolute timeout however busy', () => {
    const clock = createTestClock()
    const evicted: string[] = []
    const map = createAnonymousSessions({ max: 10, lifetime: lifetime(1_000, 3_000), clock: clock.now, onEvict: (id) => evicted.push(id) })
    map.add(record('a', clock.now()))
    for (let step = 0; step < 5; step++) {
      clock.advance(900)
      map.touch('a')
    }
    expect(map.get('a')).toBeUndefined()
    expect(evicted).toEqual(['a'])
  })
})
