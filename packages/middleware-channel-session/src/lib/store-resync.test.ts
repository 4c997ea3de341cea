import { createMemoryStore, type SessionStore } from '@pikku/core'
import { createSessionEventBus } from '@pikku/core/store'
import type { TestClock } from '@pikku/core/testing'
import { afterEach, describe, expect, it } from 'vitest'
import { afterAuthenticating, httpAuthenticator, startTestApp, waitFor, type TestApp, type TestAppOptions } from './channel-test-app.test-support.js'

/**
 * A store that loses the events of chosen sessions, as Redis pub/sub and PostgreSQL NOTIFY do while
 * a subscriber is disconnected, says so as they do once they notice, and then resyncs as they do
 * once delivery is back.
 */
interface LossyStore extends SessionStore {
  /** From now on, events about this session never reach subscribers. */
  loseEventsOf(id: string): void
  /** Tells subscribers that delivery is interrupted (through the event bus real stores use). */
  interrupt(): void
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
  // Gap events go through core's bus, as in the Redis and PostgreSQL stores: once per gap, and
  // replayed to a listener that subscribes during one.
  const gaps = createSessionEventBus()
  let reads = 0
  return {
    ...inner,
    down: false,
    get(id) {
      reads++
      return this.down ? Promise.reject(new Error('connection refused')) : inner.get(id)
    },
    subscribe(listener) {
      const stopGaps = gaps.subscribe(listener)
      const unsubscribe = inner.subscribe((event) => {
        if (!('id' in event) || !lost.has(event.id)) listener(event)
      })
      return () => {
        stopGaps()
        unsubscribe()
      }
    },
    loseEventsOf(id) {
      lost.add(id)
    },
    interrupt() {
      gaps.publish({ type: 'interrupted' })
    },
    resync() {
      gaps.publish({ type: 'resync' })
    },
    get reads() {
      return reads
    },
  }
}

let app: TestApp
let store: LossyStore

async function start(options: { interruptedFromTheStart?: boolean; authenticator?: TestAppOptions['authenticator'] } = {}): Promise<void> {
  app = await startTestApp({
    ...(options.authenticator === undefined ? {} : { authenticator: options.authenticator }),
    store: (clock) => {
      store = createLossyStore(clock)
      if (options.interruptedFromTheStart === true) store.interrupt()
      return store
    },
  })
}

async function sessionIdOf(userId: string): Promise<string> {
  const [record] = await app.sessions.listUserSessions(userId)
  return record!.id
}

afterEach(async () => {
  await app?.close()
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
    // The session is revoked unheard just after the credential check, and the store resyncs.
    await start({
      authenticator: (httpSessions) =>
        afterAuthenticating(httpAuthenticator(httpSessions), async (record) => {
          store.loseEventsOf(record.id)
          await store.delete(record.id, 'revoked')
          store.resync()
        }),
    })
    const { cookie } = await app.httpLogin('alice')
    const client = await app.connect({ headers: { cookie }, origin: app.origin })
    expect((await client.nextEvent('session', 1_000)).data).toEqual({ state: 'cleared' })
    expect((await client.call('maybeMe')).result).toBeNull()
    expect(app.channelSessions.boundSessionCount).toBe(0)
  })
})

describe('while the store says its events are interrupted', () => {
  it('a session revoked during the interruption is refused at the next message, never served as the user', async () => {
    await start()
    const alice = await app.httpLogin('alice')
    const socket = await app.connect({ headers: { cookie: alice.cookie }, origin: app.origin })
    expect((await socket.call('whoAmI')).result).toMatchObject({ userId: 'alice' })
    const aliceId = await sessionIdOf('alice')
    store.interrupt()
    // Logged out on another server; the news cannot arrive.
    store.loseEventsOf(aliceId)
    expect(await store.delete(aliceId, 'cleared')).toBe(true)

    const reply = await socket.call('whoAmI')
    expect(reply.error?.code).toBe('UNAUTHORIZED')
    expect(reply.result).toBeUndefined()
    expect(await socket.nextEvent('session', 1_000)).toEqual({ event: 'session', data: { state: 'cleared' } })
    expect((await socket.call('maybeMe')).result).toBeNull()
    expect(app.channelSessions.boundSessionCount).toBe(0)
  })

  it('messages fail with SERVICE_UNAVAILABLE while the store is unreachable too, and are served again once it answers', async () => {
    await start()
    const alice = await app.httpLogin('alice')
    const socket = await app.connect({ headers: { cookie: alice.cookie }, origin: app.origin })
    store.interrupt()
    store.down = true
    expect((await socket.call('whoAmI')).error?.code).toBe('SERVICE_UNAVAILABLE')
    expect((await socket.call('maybeMe')).error?.code).toBe('SERVICE_UNAVAILABLE')
    store.down = false
    expect((await socket.call('whoAmI')).result).toMatchObject({ userId: 'alice' })
    // An outage is not a logout: the connection keeps its session.
    expect(socket.events).toEqual([])
    expect(app.channelSessions.boundSessionCount).toBe(1)
  })

  it('a change made elsewhere during the interruption is seen by the next message, without waiting for the resync', async () => {
    await start()
    const alice = await app.httpLogin('alice')
    const socket = await app.connect({ headers: { cookie: alice.cookie }, origin: app.origin })
    store.interrupt()
    store.loseEventsOf(await sessionIdOf('alice'))
    expect((await app.http('POST', '/rename', { cookie: alice.cookie, body: { name: 'renamed over HTTP' } })).status).toBe(200)
    expect((await socket.call('whoAmI')).result).toMatchObject({ userId: 'alice', name: 'renamed over HTTP' })
  })

  it('reads the store once per message only until the resync; after it, one read per session and none per message', async () => {
    await start()
    const alice = await app.httpLogin('alice')
    const socket = await app.connect({ headers: { cookie: alice.cookie }, origin: app.origin })
    let readsBefore = store.reads
    for (let i = 0; i < 3; i++) expect((await socket.call('whoAmI')).result).toMatchObject({ userId: 'alice' })
    expect(store.reads - readsBefore).toBe(0)

    store.interrupt()
    readsBefore = store.reads
    for (let i = 0; i < 3; i++) expect((await socket.call('whoAmI')).result).toMatchObject({ userId: 'alice' })
    expect(store.reads - readsBefore).toBe(3)

    store.resync()
    await waitFor(() => store.reads === readsBefore + 4)
    readsBefore = store.reads
    for (let i = 0; i < 3; i++) expect((await socket.call('whoAmI')).result).toMatchObject({ userId: 'alice' })
    expect(store.reads - readsBefore).toBe(0)
  })

  it('a revocation missed during the interruption and not yet asked about is found by the resync', async () => {
    await start()
    const alice = await app.httpLogin('alice')
    const socket = await app.connect({ headers: { cookie: alice.cookie }, origin: app.origin })
    store.interrupt()
    const aliceId = await sessionIdOf('alice')
    store.loseEventsOf(aliceId)
    await store.delete(aliceId, 'revoked')
    store.resync()
    expect(await socket.nextEvent('session', 1_000)).toEqual({ event: 'session', data: { state: 'cleared' } })
    expect((await socket.call('whoAmI')).error?.code).toBe('UNAUTHORIZED')
  })

  it('a handler created while the store is already interrupted trusts no session until the resync', async () => {
    await start({ interruptedFromTheStart: true })
    const alice = await app.httpLogin('alice')
    const socket = await app.connect({ headers: { cookie: alice.cookie }, origin: app.origin })
    const aliceId = await sessionIdOf('alice')
    store.loseEventsOf(aliceId)
    await store.delete(aliceId, 'revoked')
    expect((await socket.call('whoAmI')).error?.code).toBe('UNAUTHORIZED')
  })
})
