import { UpgradeRefusedError } from '@pikku/channel/testing'
import { createMemoryStore, type SessionStore } from '@pikku/core'
import type { TestClock } from '@pikku/core/testing'
import { afterEach, describe, expect, it } from 'vitest'
import { bearerSubprotocols } from './subprotocol-token.js'
import { afterAuthenticating, FOREIGN_ORIGIN, httpAuthenticator, PARTNER_ORIGIN, startTestApp, waitFor, type TestApp } from './channel-test-app.test-support.js'

let app: TestApp

afterEach(async () => {
  await app?.close()
})

describe('session at the upgrade', () => {
  it('a browser logged in over HTTP is logged in on its socket (cookie at the upgrade)', async () => {
    app = await startTestApp()
    const { cookie } = await app.httpLogin('alice')
    const client = await app.connect({ headers: { cookie }, origin: app.origin })
    expect(await client.call('whoAmI')).toMatchObject({ result: { userId: 'alice', name: 'alice original' } })
  })

  it('refuses with 403, before the upgrade, a cookie-carrying upgrade from a foreign origin', async () => {
    app = await startTestApp()
    const { cookie } = await app.httpLogin('alice')
    const refused = await app.connect({ headers: { cookie }, origin: FOREIGN_ORIGIN }).catch((error: unknown) => error)
    expect(refused).toBeInstanceOf(UpgradeRefusedError)
    expect((refused as UpgradeRefusedError).status).toBe(403)
    expect(JSON.parse((refused as UpgradeRefusedError).body).error.code).toBe('FORBIDDEN')
    expect(app.channels.connectionCount).toBe(0)
  })

  it('refuses a foreign origin whether or not the cookie is valid, so a page cannot probe the login state', async () => {
    app = await startTestApp()
    const bogus = `${app.httpSessions.cookieName}=${'A'.repeat(43)}`
    const refused = await app.connect({ headers: { cookie: bogus }, origin: FOREIGN_ORIGIN }).catch((error: unknown) => error)
    expect((refused as UpgradeRefusedError).status).toBe(403)
  })

  it('refuses an upgrade from an opaque (null) origin that carries the cookie', async () => {
    app = await startTestApp()
    const { cookie } = await app.httpLogin('alice')
    const refused = await app.connect({ headers: { cookie }, origin: 'null' }).catch((error: unknown) => error)
    expect((refused as UpgradeRefusedError).status).toBe(403)
  })

  it('accepts the cookie from an origin on the allow-list', async () => {
    app = await startTestApp()
    const { cookie } = await app.httpLogin('alice')
    const client = await app.connect({ headers: { cookie }, origin: PARTNER_ORIGIN })
    expect((await client.call('whoAmI')).result).toMatchObject({ userId: 'alice' })
  })

  it('accepts anonymous connections from any origin', async () => {
    app = await startTestApp()
    const client = await app.connect({ origin: FOREIGN_ORIGIN })
    expect((await client.call('maybeMe')).result).toBeNull()
    expect((await client.call('whoAmI')).error?.code).toBe('UNAUTHORIZED')
  })

  it('takes a bearer token from the subprotocol and selects only pikku.v1', async () => {
    app = await startTestApp()
    const { token } = await app.httpLogin('bob')
    const client = await app.connect({ protocols: bearerSubprotocols(token) })
    expect(client.protocol).toBe('pikku.v1')
    expect((await client.call('whoAmI')).result).toMatchObject({ userId: 'bob' })
  })

  it('accepts a bearer token from a foreign origin: no cookie, nothing to hijack', async () => {
    app = await startTestApp()
    const { token } = await app.httpLogin('bob')
    const client = await app.connect({ protocols: bearerSubprotocols(token), origin: FOREIGN_ORIGIN })
    expect((await client.call('whoAmI')).result).toMatchObject({ userId: 'bob' })
  })

  it('uses an offered bearer token exclusively: a bad one is an anonymous connection even with a good cookie', async () => {
    app = await startTestApp()
    const { cookie } = await app.httpLogin('alice')
    const client = await app.connect({ protocols: bearerSubprotocols('not.a.jwt'), headers: { cookie }, origin: app.origin })
    expect((await client.call('maybeMe')).result).toBeNull()
  })

  it('makes a connection with a revoked bearer token anonymous', async () => {
    app = await startTestApp()
    const { cookie, token } = await app.httpLogin('bob')
    expect((await app.http('POST', '/logout', { cookie })).status).toBe(200)
    const client = await app.connect({ protocols: bearerSubprotocols(token) })
    expect((await client.call('maybeMe')).result).toBeNull()
  })

  it('refuses two different bearer tokens with 400', async () => {
    app = await startTestApp()
    const refused = await app.connect({ protocols: ['pikku.v1', 'pikku.bearer.aaa', 'pikku.bearer.bbb'] }).catch((error: unknown) => error)
    expect((refused as UpgradeRefusedError).status).toBe(400)
  })

  it('answers 503, not an anonymous connection, when the store is down at the upgrade', async () => {
    const inner = createMemoryStore({ sweepInterval: 0 })
    let down = false
    const store: SessionStore = {
      ...inner,
      get: (id) => (down ? Promise.reject(new Error('connection refused')) : inner.get(id)),
      subscribe: (listener) => inner.subscribe(listener),
    }
    app = await startTestApp({ store })
    const { cookie } = await app.httpLogin('alice')
    down = true
    const refused = await app.connect({ headers: { cookie }, origin: app.origin }).catch((error: unknown) => error)
    expect((refused as UpgradeRefusedError).status).toBe(503)
    expect(JSON.parse((refused as UpgradeRefusedError).body).error.code).toBe('SERVICE_UNAVAILABLE')
  })
})

describe('revocation racing the upgrade', () => {
  it('does not adopt a session revoked after its credential was checked', async () => {
    // Revokes the session in the gap between the credential check and the open connection.
    app = await startTestApp({ authenticator: (httpSessions) => afterAuthenticating(httpAuthenticator(httpSessions), (record) => app.sessions.revoke(record.id).then(() => undefined)) })
    const { cookie } = await app.httpLogin('alice')
    const client = await app.connect({ headers: { cookie }, origin: app.origin })
    expect((await client.call('maybeMe')).result).toBeNull()
    expect(app.channelSessions.boundSessionCount).toBe(0)
  })
})

describe('in-band login and logout', () => {
  it('an anonymous connection logs in over the socket and the session is stored', async () => {
    app = await startTestApp()
    const client = await app.connect()
    expect((await client.call('whoAmI')).error?.code).toBe('UNAUTHORIZED')
    const reply = await client.call('login', { userId: 'carol' })
    const { token } = reply.result as { token: string }
    expect((await client.call('whoAmI')).result).toMatchObject({ userId: 'carol' })
    // Persisted: the same session is in the store, and the token handed out works over HTTP.
    expect(await app.sessions.listUserSessions('carol')).toHaveLength(1)
    expect((await app.http('GET', '/me', { bearer: token })).body).toMatchObject({ userId: 'carol' })
  })

  it('a failed login persists nothing and leaves the connection as it was', async () => {
    app = await startTestApp()
    const client = await app.connect()
    expect((await client.call('login', { userId: 'carol', fail: true })).error?.code).toBe('INTERNAL')
    expect((await client.call('maybeMe')).result).toBeNull()
    expect(await app.sessions.listUserSessions('carol')).toHaveLength(0)
    expect((await client.call('login', { userId: 'nobody' })).error?.code).toBe('UNAUTHORIZED')
    expect(client.isOpen).toBe(true)
  })

  it('logout over the socket deletes the stored session and keeps the connection open', async () => {
    app = await startTestApp()
    const { cookie } = await app.httpLogin('alice')
    const client = await app.connect({ headers: { cookie }, origin: app.origin })
    expect(await client.call('logout')).toMatchObject({ result: { success: true } })
    expect(client.isOpen).toBe(true)
    expect((await client.call('whoAmI')).error?.code).toBe('UNAUTHORIZED')
    expect((await client.call('maybeMe')).result).toBeNull()
    // The cookie of the browser that opened the socket no longer works either.
    expect((await app.http('GET', '/me', { cookie })).status).toBe(401)
    expect(await app.sessions.listUserSessions('alice')).toHaveLength(0)
    expect(app.channelSessions.boundSessionCount).toBe(0)
    // The client asked for the logout: its reply says so, no extra event is pushed.
    expect(client.events).toEqual([])
  })

  it('logs in again after a logout on the same socket', async () => {
    app = await startTestApp()
    const client = await app.connect()
    await client.call('login', { userId: 'dave' })
    await client.call('logout')
    await client.call('login', { userId: 'dave' })
    expect((await client.call('whoAmI')).result).toMatchObject({ userId: 'dave' })
    expect(await app.sessions.listUserSessions('dave')).toHaveLength(1)
  })
})

describe('changes made on the socket', () => {
  it('update() and set() persist, visible to the next message and to HTTP with the same session', async () => {
    app = await startTestApp()
    const { cookie } = await app.httpLogin('alice')
    const client = await app.connect({ headers: { cookie }, origin: app.origin })
    expect((await client.call('rename', { name: 'Alice Liddell' })).error).toBeUndefined()
    expect((await client.call('whoAmI')).result).toMatchObject({ name: 'Alice Liddell' })
    expect((await client.call('setTheme', { theme: 'dark' })).error).toBeUndefined()
    expect((await client.call('whoAmI')).result).toMatchObject({ name: 'Alice Liddell', theme: 'dark' })
    expect((await app.http('GET', '/me', { cookie })).body).toMatchObject({ userId: 'alice', name: 'Alice Liddell', theme: 'dark' })
  })

  it('a change that fails is not persisted and the next message does not see it', async () => {
    app = await startTestApp()
    const { cookie } = await app.httpLogin('alice')
    const client = await app.connect({ headers: { cookie }, origin: app.origin })
    expect((await client.call('rename', { name: 'Broken', fail: true })).error?.code).toBe('INTERNAL')
    expect((await client.call('whoAmI')).result).toMatchObject({ name: 'alice original' })
    await client.call('setTheme', { theme: 'light' })
    expect((await app.http('GET', '/me', { cookie })).body).toEqual({ userId: 'alice', name: 'alice original', theme: 'light' })
  })

  it('sees a change made over HTTP at its next message', async () => {
    app = await startTestApp()
    const { cookie } = await app.httpLogin('alice')
    const client = await app.connect({ headers: { cookie }, origin: app.origin })
    expect((await client.call('whoAmI')).result).toMatchObject({ name: 'alice original' })
    expect((await app.http('POST', '/rename', { cookie, body: { name: 'Renamed over HTTP' } })).status).toBe(200)
    expect((await client.call('whoAmI')).result).toMatchObject({ name: 'Renamed over HTTP' })
    // And a socket change after it builds on it rather than overwriting it.
    await client.call('setTheme', { theme: 'dark' })
    expect((await app.http('GET', '/me', { cookie })).body).toMatchObject({ name: 'Renamed over HTTP', theme: 'dark' })
  })

  it('reads the session without touching the store', async () => {
    app = await startTestApp()
    const { cookie } = await app.httpLogin('alice')
    const client = await app.connect({ headers: { cookie }, origin: app.origin })
    let reads = 0
    const originalGet = app.store.get.bind(app.store)
    app.store.get = (id) => {
      reads++
      return originalGet(id)
    }
    for (let index = 0; index < 20; index++) expect((await client.call('whoAmI')).result).toMatchObject({ userId: 'alice' })
    expect(reads).toBe(0)
  })
})

describe('revocation while connected', () => {
  it('an HTTP logout reaches the open socket within a second', async () => {
    app = await startTestApp()
    const { cookie } = await app.httpLogin('alice')
    const client = await app.connect({ headers: { cookie }, origin: app.origin })
    expect((await client.call('whoAmI')).result).toMatchObject({ userId: 'alice' })
    const started = performance.now()
    expect((await app.http('POST', '/logout', { cookie })).status).toBe(200)
    expect(await client.nextEvent('session', 1_000)).toEqual({ event: 'session', data: { state: 'cleared' } })
    expect(performance.now() - started).toBeLessThan(1_000)
    expect(client.isOpen).toBe(true)
    expect((await client.call('whoAmI')).error?.code).toBe('UNAUTHORIZED')
    expect(app.channelSessions.boundSessionCount).toBe(0)
  })

  it('"log out everywhere" reaches every socket of the user, and only those', async () => {
    app = await startTestApp()
    const first = await app.httpLogin('alice')
    const second = await app.httpLogin('alice')
    const bob = await app.httpLogin('bob')
    const a1 = await app.connect({ headers: { cookie: first.cookie }, origin: app.origin })
    const a2 = await app.connect({ protocols: bearerSubprotocols(second.token) })
    const a3 = await app.connect({ headers: { cookie: first.cookie }, origin: app.origin })
    const b = await app.connect({ headers: { cookie: bob.cookie }, origin: app.origin })
    expect((await app.http('POST', '/logout-everywhere', { cookie: second.cookie })).body).toBe(2)
    for (const client of [a1, a2, a3]) {
      expect((await client.nextEvent('session', 1_000)).data).toEqual({ state: 'revoked' })
      expect((await client.call('whoAmI')).error?.code).toBe('UNAUTHORIZED')
    }
    expect((await b.call('whoAmI')).result).toMatchObject({ userId: 'bob' })
    expect(b.events).toEqual([])
  })

  it('sessions.revoke(id) ends the session on its sockets', async () => {
    app = await startTestApp()
    const client = await app.connect()
    await client.call('login', { userId: 'erin' })
    const [record] = await app.sessions.listUserSessions('erin')
    await app.sessions.revoke(record!.id)
    expect((await client.nextEvent('session', 1_000)).data).toEqual({ state: 'revoked' })
    expect((await client.call('maybeMe')).result).toBeNull()
  })

  it('a session that expires while connected is cleared on the socket', async () => {
    app = await startTestApp({ idleTimeout: 60_000 })
    const { cookie } = await app.httpLogin('alice')
    const client = await app.connect({ headers: { cookie }, origin: app.origin })
    expect((await client.call('whoAmI')).result).toMatchObject({ userId: 'alice' })
    app.timers.advance(59_000)
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(client.events).toEqual([])
    app.timers.advance(1_000)
    expect(await client.nextEvent('session', 1_000)).toEqual({ event: 'session', data: { state: 'cleared' } })
    expect((await client.call('whoAmI')).error?.code).toBe('UNAUTHORIZED')
    expect((await app.http('GET', '/me', { cookie })).status).toBe(401)
  })

  it('messages on the socket renew the session, moving its expiry', async () => {
    app = await startTestApp({ idleTimeout: 60_000 })
    const { cookie } = await app.httpLogin('alice')
    const client = await app.connect({ headers: { cookie }, origin: app.origin })
    app.timers.advance(40_000)
    // Past the renewal interval: this call renews the idle timer in the store.
    expect((await client.call('whoAmI')).result).toMatchObject({ userId: 'alice' })
    app.timers.advance(40_000)
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(client.events).toEqual([])
    expect((await client.call('whoAmI')).result).toMatchObject({ userId: 'alice' })
    app.timers.advance(60_000)
    expect((await client.nextEvent('session', 1_000)).data).toEqual({ state: 'cleared' })
  })

  it('a renewal over HTTP moves the expiry of the socket bound to the same session', async () => {
    app = await startTestApp({ idleTimeout: 60_000 })
    const { cookie } = await app.httpLogin('alice')
    const client = await app.connect({ headers: { cookie }, origin: app.origin })
    app.timers.advance(50_000)
    expect((await app.http('GET', '/me', { cookie })).status).toBe(200)
    app.timers.advance(50_000)
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(client.events).toEqual([])
    expect((await client.call('whoAmI')).result).toMatchObject({ userId: 'alice' })
  })

  it('confirms an expiry with the store before clearing, in case a renewal was not announced yet', async () => {
    // A store whose 'changed' events are lost, as when another server's renewal is still in flight.
    const store = (clock: TestClock): SessionStore => {
      const inner = createMemoryStore({ clock: clock.now, sweepInterval: 0 })
      return { ...inner, subscribe: (listener) => inner.subscribe((event) => (event.type === 'changed' ? undefined : listener(event))) }
    }
    app = await startTestApp({ idleTimeout: 60_000, store })
    const { cookie } = await app.httpLogin('alice')
    const client = await app.connect({ headers: { cookie }, origin: app.origin })
    app.clock.advance(50_000)
    expect((await app.http('GET', '/me', { cookie })).status).toBe(200)
    app.timers.advance(10_000)
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(client.events).toEqual([])
    // This call renews the session again, to 120 s after login.
    expect((await client.call('whoAmI')).result).toMatchObject({ userId: 'alice' })
    app.timers.advance(59_000)
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(client.events).toEqual([])
    app.timers.advance(1_000)
    expect((await client.nextEvent('session', 1_000)).data).toEqual({ state: 'cleared' })
  })

  it('notices an expiry at the next message even before the timer fires', async () => {
    app = await startTestApp({ idleTimeout: 60_000 })
    const { cookie } = await app.httpLogin('alice')
    const client = await app.connect({ headers: { cookie }, origin: app.origin })
    // The clock moves but no timer runs (as when the event loop is late).
    app.clock.advance(61_000)
    expect((await client.call('whoAmI')).error?.code).toBe('UNAUTHORIZED')
    expect((await client.nextEvent('session', 1_000)).data).toEqual({ state: 'cleared' })
  })
})

describe('re-login as another user on the same socket', () => {
  it('switches cleanly and saves nothing under the previous user', async () => {
    app = await startTestApp()
    const { cookie } = await app.httpLogin('alice')
    const client = await app.connect({ headers: { cookie }, origin: app.origin })
    const watcher = await app.connect({ headers: { cookie }, origin: app.origin })
    await client.call('login', { userId: 'bob' })
    expect((await client.call('whoAmI')).result).toEqual({ userId: 'bob', name: 'bob original' })
    await client.call('rename', { name: 'Bob renamed' })
    // The previous session was destroyed (fixation defence) and nothing was written for alice.
    expect(await app.sessions.listUserSessions('alice')).toHaveLength(0)
    const [bobs] = await app.sessions.listUserSessions('bob')
    expect(bobs?.data).toEqual({ userId: 'bob', name: 'Bob renamed' })
    expect((await app.http('GET', '/me', { cookie })).status).toBe(401)
    // Another socket of the old session learns it ended; the switching socket gets no event.
    expect((await watcher.nextEvent('session', 1_000)).data).toEqual({ state: 'cleared' })
    expect(client.events).toEqual([])
  })

  it('follows the new session for revocation, not the old one', async () => {
    app = await startTestApp()
    const client = await app.connect()
    await client.call('login', { userId: 'alice' })
    await client.call('login', { userId: 'bob' })
    await app.sessions.revokeUser('alice')
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(client.events).toEqual([])
    expect((await client.call('whoAmI')).result).toMatchObject({ userId: 'bob' })
    await app.sessions.revokeUser('bob')
    expect((await client.nextEvent('session', 1_000)).data).toEqual({ state: 'revoked' })
    expect(app.channelSessions.boundSessionCount).toBe(0)
  })
})

describe('connection lifecycle', () => {
  it('forgets a connection when it closes', async () => {
    app = await startTestApp()
    const { cookie } = await app.httpLogin('alice')
    const client = await app.connect({ headers: { cookie }, origin: app.origin })
    expect(app.channelSessions.boundSessionCount).toBe(1)
    expect(app.timers.armed).toBe(1)
    await client.close()
    await waitFor(() => app.channelSessions.boundSessionCount === 0)
    expect(app.timers.armed).toBe(0)
    // The session itself lives on for HTTP.
    expect((await app.http('GET', '/me', { cookie })).status).toBe(200)
  })
})
