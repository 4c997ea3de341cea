import { createMemoryStore, type SessionEventListener, type SessionStore } from '@pikku/core'
import { createTestClock, type TestClock } from '@pikku/core/testing'
import { afterEach, describe, expect, it } from 'vitest'
import { mcpSessionStorageId } from '../index.js'
import { ALICE, connectClient, createTestApp, startTestServer, tokenOf } from './test-app.test-support.js'

const cleanups: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined)
})

/**
 * A store whose events about chosen records are lost, as Redis pub/sub and PostgreSQL NOTIFY lose
 * them while a subscriber is disconnected, and which then resyncs as they do.
 */
function createLossyStore(clock: TestClock): SessionStore & { loseEventsOf(id: string): void; resync(): void } {
  const inner = createMemoryStore({ clock: clock.now, sweepInterval: 0 })
  const lost = new Set<string>()
  const listeners = new Set<SessionEventListener>()
  return {
    ...inner,
    subscribe(listener) {
      listeners.add(listener)
      const unsubscribe = inner.subscribe((event) => {
        if (!('id' in event) || !lost.has(event.id)) listener(event)
      })
      return () => {
        listeners.delete(listener)
        unsubscribe()
      }
    },
    loseEventsOf(id) {
      lost.add(id)
    },
    resync() {
      for (const listener of [...listeners]) listener({ type: 'resync' })
    },
  }
}

describe('MCP sessions ended while the store could not deliver events', () => {
  it('a resync ends here an MCP session deleted during the gap: its transports close and its login is revoked', async () => {
    const clock = createTestClock()
    const store = createLossyStore(clock)
    const app = createTestApp({ clock, store })
    const server = await startTestServer(app)
    cleanups.push(() => server.close())
    const agent = await connectClient(server.mcpUrl)
    cleanups.push(() => agent.close())
    const token = tokenOf(await agent.call('login', ALICE))
    const pending = agent.client.callTool({ name: 'slow', arguments: {} }, undefined, { timeout: 5_000 }).catch((error: unknown) => error)
    await expect.poll(() => app.gate.waiting).toBe(1)
    expect(server.handler.openTransports).toBe(1)

    // Another server deletes the MCP session record; this one never hears of it.
    const storageId = mcpSessionStorageId(agent.transport.sessionId!)
    store.loseEventsOf(storageId)
    expect(await store.delete(storageId, 'revoked')).toBe(true)
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(server.handler.openTransports).toBe(1)

    store.resync()
    await expect.poll(() => server.handler.openTransports, { timeout: 1_000 }).toBe(0)
    await expect.poll(() => app.sessions.loadByToken(token), { timeout: 1_000 }).toBeUndefined()
    expect(await pending).toBeInstanceOf(Error)
    app.gate.open()
  })
})
