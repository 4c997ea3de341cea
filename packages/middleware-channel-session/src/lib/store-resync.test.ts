import type { AddressInfo } from 'node:net'
import { createChannelServer, wireChannel } from '@pikku/channel'
import { connectTestClient } from '@pikku/channel/testing'
import { createMemoryStore, createRunner, silentLogger, type SessionEventListener, type SessionStore } from '@pikku/core'
import type { TestClock } from '@pikku/core/testing'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createChannelSessions, type ChannelCredentials } from './channel-sessions.js'
import { functions, PER_MESSAGE, sessionHandlerFor, startTestApp, waitFor, type PerMessage, type TestApp } from './channel-test-app.test-support.js'

/**
 * A store that loses the events of chosen sessions, as Redis pub/sub and PostgreSQL NOTIFY do while
 * a subscriber is disconnected, and then resyncs as they do once delivery is back.
 */
interface LossyStore extends SessionStore {
  /** From now on, events about this session never reach subscribers. */
  loseEventsOf(id: string): void
  /** Tells subscribers that delivery resumed after a gap. */
  resync(): void
  /** Makes every read fail, as while the backend is unreachable. */
  down: boolean
  /** Reads (`get`) made so far. */
  readonly reads: number
}

function createLossyStore(clock: TestClock): LossyStore {
  const inner = createMemoryStore({ clock: clock.now, sweepInterval: 0 })
  const lost = new Set<string>()
  const listeners = new Set<SessionEventListener>()
  let reads = 0
  return {
    ...inner,
    down: false,
    get(id) {
      reads++
      return this.down ? Promise.reject(new Error('connection refused')) : inner.get(id)
    },
    subscribe(listener) {
      listeners.add(listener)
      const unsubscribe = inner.subscribe((event) => {
        if (event.type === 'resync' || !lost.has(event.id)) listener(event)
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
    get reads() {
      return reads
    },
  }
}

let app: TestApp
let store: LossyStore

let perMessage: PerMessage = 'call hooks'

async function start(): Promise<void> {
  app = await startTestApp({ perMessage, store: (clock) => (store = createLossyStore(clock)) })
}

async function sessionIdOf(userId: string): Promise<string> {
  const [record] = await app.sessions.listUserSessions(userId)
  return record!.id
}

afterEach(async () => {
  await app?.close()
})

describe.each(PER_MESSAGE)('per message through the %s', (mode) => {
  beforeEach(() => {
    perMessage = mode
  })

  describe('events missed while the store could not deliver them', () => {
    it('a session revoked during the gap is cleared on its socket at the resync, and only that one', async () => {
      await start()
      const alice = await app.httpLogin('alice')
      const bob = await app.httpLogin('bob')
      const aliceSocket = await app.connect({ headers: { cookie: alice.cookie }, origin: app.origin })
      const bobSocket = await app.connect({ headers: { cookie: bob.cookie }, origin: app.origin })
      const aliceId = await sessionIdOf('alice')
      store.loseEventsOf(aliceId)
      // Revoked by another server while this one heard nothing.
      expect(await store.delete(aliceId, 'revoked')).toBe(true)
      await new Promise((resolve) => setTimeout(resolve, 20))
      expect(aliceSocket.events).toEqual([])

      const readsBefore = store.reads
      store.resync()
      expect(await aliceSocket.nextEvent('session', 1_000)).toEqual({ event: 'session', data: { state: 'cleared' } })
      expect((await aliceSocket.call('whoAmI')).error?.code).toBe('UNAUTHORIZED')
      expect((await bobSocket.call('whoAmI')).result).toMatchObject({ userId: 'bob' })
      expect(bobSocket.events).toEqual([])
      // One read per connected session at the resync; none for the messages.
      expect(store.reads - readsBefore).toBe(2)
      expect(app.channelSessions.boundSessionCount).toBe(1)
    })

    it('a change made during the gap is seen by the next message after the resync', async () => {
      await start()
      const alice = await app.httpLogin('alice')
      const socket = await app.connect({ headers: { cookie: alice.cookie }, origin: app.origin })
      store.loseEventsOf(await sessionIdOf('alice'))
      expect((await app.http('POST', '/rename', { cookie: alice.cookie, body: { name: 'renamed over HTTP' } })).status).toBe(200)
      // Without the event, the socket still holds what it had.
      expect((await socket.call('whoAmI')).result).toMatchObject({ name: 'alice original' })

      const readsBefore = store.reads
      store.resync()
      await waitFor(() => store.reads > readsBefore)
      expect((await socket.call('whoAmI')).result).toMatchObject({ userId: 'alice', name: 'renamed over HTTP' })
      expect(socket.events).toEqual([])
    })

    it('a resync while the store is unreachable leaves no session trusted: the next message fails until the store answers', async () => {
      await start()
      const alice = await app.httpLogin('alice')
      const socket = await app.connect({ headers: { cookie: alice.cookie }, origin: app.origin })
      const readsBefore = store.reads
      store.down = true
      store.resync()
      await waitFor(() => store.reads > readsBefore)
      expect((await socket.call('whoAmI')).error?.code).toBe('SERVICE_UNAVAILABLE')
      store.down = false
      expect((await socket.call('whoAmI')).result).toMatchObject({ userId: 'alice' })
      expect(socket.events).toEqual([])
    })

    it('an upgrade under way at the resync re-checks its session once connected', async () => {
      await start()
      const { cookie } = await app.httpLogin('alice')
      const { httpSessions, sessions } = app
      // The session is revoked unheard just after the credential check, and the store resyncs.
      const credentials: ChannelCredentials = {
        cookieName: httpSessions.cookieName,
        authenticateToken: (token) => httpSessions.authenticateToken(token),
        authenticate: async (header) => {
          const found = await httpSessions.authenticate(header)
          if (found !== undefined) {
            store.loseEventsOf(found.record.id)
            await store.delete(found.record.id, 'revoked')
            store.resync()
          }
          return found
        },
      }
      const channelSessions = createChannelSessions({ sessions, credentials })
      const channels = createChannelServer({
        runner: createRunner({ services: {}, logger: silentLogger }),
        channels: [wireChannel({ route: '/ws', functions, session: sessionHandlerFor(channelSessions, perMessage) })],
      })
      const server = await channels.listen({ port: 0, host: '127.0.0.1' })
      try {
        const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
        const client = await connectTestClient(`${origin.replace('http', 'ws')}/ws`, { headers: { cookie }, origin })
        expect((await client.nextEvent('session', 1_000)).data).toEqual({ state: 'cleared' })
        expect((await client.call('maybeMe')).result).toBeNull()
        expect(channelSessions.boundSessionCount).toBe(0)
        await client.close()
      } finally {
        await channels.close()
        channelSessions.close()
      }
    })
  })
})
