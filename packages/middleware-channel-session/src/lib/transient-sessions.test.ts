import { createHash, timingSafeEqual } from 'node:crypto'
import {
  firstAuthenticated,
  noCredential,
  ServiceUnavailableError,
  silentLogger,
  type SessionAuthenticator,
  type UserSession,
} from '@pikku/core'
import { SessionState } from '@pikku/core/protocol'
import { createStatelessJwtSessions } from '@pikku/middleware-http-session'
import { afterEach, describe, expect, it } from 'vitest'
import { httpAuthenticator, startTestApp, type TestApp } from './channel-test-app.test-support.js'
import { bearerSubprotocols } from './subprotocol-token.js'

/**
 * API keys sent by non-browser clients in `X-Api-Key` (or as the subprotocol token): each names a
 * fixed session that no store keeps. Keys can be revoked, and the key service can be made to fail.
 */
function createApiKeys(keys: Record<string, string>) {
  const digest = (key: string): Buffer => createHash('sha256').update(key).digest()
  const table = new Map(Object.entries(keys).map(([key, userId]) => [key, { digest: digest(key), userId }]))
  const state = { down: false, checks: 0 }
  const authenticator: SessionAuthenticator<UserSession> = {
    async authenticate(input) {
      const key = input.token ?? input.header('x-api-key')
      if (key === undefined || (input.token !== undefined && !key.startsWith('key-'))) return noCredential()
      state.checks++
      if (state.down) throw new ServiceUnavailableError('The key service is unavailable')
      const offered = digest(key)
      for (const entry of table.values()) {
        if (timingSafeEqual(entry.digest, offered)) return { outcome: 'transient', credential: 'api-key', session: { userId: entry.userId, name: `${entry.userId} (key)` } }
      }
      return { outcome: 'refused', credential: 'api-key', reason: 'unknown-key' }
    },
  }
  return { authenticator, state, revoke: (key: string) => table.delete(key) }
}

const CI_KEY = 'key-for-ci-0123456789'
const RECHECK = 60_000

let app: TestApp

afterEach(async () => {
  await app?.close()
})

async function startWithApiKeys(keys = createApiKeys({ [CI_KEY]: 'ci-bot' })) {
  app = await startTestApp({
    authenticator: (httpSessions) => firstAuthenticated(keys.authenticator, httpAuthenticator(httpSessions)),
    channelSessions: { transientRecheckInterval: RECHECK },
  })
  return keys
}

describe('a session no store backs (API key) on a socket', () => {
  it("runs the connection's calls as the key's user, with no store call and no store binding", async () => {
    await startWithApiKeys()
    let storeCalls = 0
    for (const method of ['get', 'set', 'update', 'touch', 'delete'] as const) {
      const original = (app.store[method] as (...args: unknown[]) => unknown).bind(app.store)
      ;(app.store as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
        storeCalls++
        return original(...args)
      }
    }
    const client = await app.connect({ headers: { 'x-api-key': CI_KEY } })
    for (let index = 0; index < 5; index++) expect((await client.call('whoAmI')).result).toEqual({ userId: 'ci-bot', name: 'ci-bot (key)' })
    expect(storeCalls).toBe(0)
    expect(app.channelSessions.boundSessionCount).toBe(0)
  })

  it('keeps what a call changed for the connection only, and forgets what a failed call changed', async () => {
    await startWithApiKeys()
    const client = await app.connect({ headers: { 'x-api-key': CI_KEY } })
    expect((await client.call('rename', { name: 'Build bot' })).error).toBeUndefined()
    expect((await client.call('whoAmI')).result).toEqual({ userId: 'ci-bot', name: 'Build bot' })
    expect((await client.call('rename', { name: 'Broken', fail: true })).error?.code).toBe('INTERNAL')
    expect((await client.call('whoAmI')).result).toEqual({ userId: 'ci-bot', name: 'Build bot' })
    // Nothing was written: another connection with the same key starts from the key's session.
    const other = await app.connect({ headers: { 'x-api-key': CI_KEY } })
    expect((await other.call('whoAmI')).result).toEqual({ userId: 'ci-bot', name: 'ci-bot (key)' })
  })

  it('a logout makes the connection anonymous; the key itself still opens new connections', async () => {
    await startWithApiKeys()
    const client = await app.connect({ headers: { 'x-api-key': CI_KEY } })
    expect((await client.call('logout')).result).toEqual({ success: true })
    expect((await client.call('maybeMe')).result).toBeNull()
    expect((await client.call('whoAmI')).error?.code).toBe('UNAUTHORIZED')
    expect(client.isOpen).toBe(true)
    const again = await app.connect({ headers: { 'x-api-key': CI_KEY } })
    expect((await again.call('maybeMe')).result).toBe('ci-bot')
  })

  it('accepts the key as the subprotocol token too', async () => {
    await startWithApiKeys()
    const client = await app.connect({ protocols: bearerSubprotocols(CI_KEY) })
    expect((await client.call('maybeMe')).result).toBe('ci-bot')
  })

  it('a key revoked while connected ends the session when it is verified again, and the client is told', async () => {
    const keys = await startWithApiKeys()
    const client = await app.connect({ headers: { 'x-api-key': CI_KEY } })
    expect((await client.call('maybeMe')).result).toBe('ci-bot')
    keys.revoke(CI_KEY)
    app.timers.advance(RECHECK - 1_000)
    expect((await client.call('maybeMe')).result).toBe('ci-bot')
    app.timers.advance(1_000)
    expect(await client.nextEvent('session', 1_000)).toEqual({ event: 'session', data: { state: 'cleared' } })
    expect((await client.call('whoAmI')).error?.code).toBe('UNAUTHORIZED')
    expect(client.isOpen).toBe(true)
  })

  it('a message after the verification is due waits for it, even when the timer is late', async () => {
    const keys = await startWithApiKeys()
    const client = await app.connect({ headers: { 'x-api-key': CI_KEY } })
    keys.revoke(CI_KEY)
    // The clock moves but no timer runs (as when the event loop is late).
    app.clock.advance(RECHECK)
    const reply = await client.call('whoAmI')
    expect(reply.error?.code).toBe('UNAUTHORIZED')
    expect(reply.result).toBeUndefined()
    expect((await client.nextEvent('session', 1_000)).data).toEqual({ state: 'cleared' })
  })

  it('a key still valid is verified once per interval, not per message', async () => {
    const keys = await startWithApiKeys()
    const client = await app.connect({ headers: { 'x-api-key': CI_KEY } })
    const afterUpgrade = keys.state.checks
    for (let index = 0; index < 5; index++) await client.call('maybeMe')
    expect(keys.state.checks).toBe(afterUpgrade)
    app.timers.advance(RECHECK)
    await new Promise((resolve) => setTimeout(resolve, 20))
    for (let index = 0; index < 5; index++) expect((await client.call('maybeMe')).result).toBe('ci-bot')
    expect(keys.state.checks).toBe(afterUpgrade + 1)
    expect(client.events).toEqual([])
  })

  it('while the key service is down, messages due a verification get SERVICE_UNAVAILABLE and the session is kept', async () => {
    const keys = await startWithApiKeys()
    const client = await app.connect({ headers: { 'x-api-key': CI_KEY } })
    keys.state.down = true
    app.timers.advance(RECHECK)
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect((await client.call('whoAmI')).error?.code).toBe('SERVICE_UNAVAILABLE')
    keys.state.down = false
    expect((await client.call('whoAmI')).result).toMatchObject({ userId: 'ci-bot' })
    expect(client.events).toEqual([])
  })

  it('an idle connection whose verification failed tries again an interval later', async () => {
    const keys = await startWithApiKeys()
    const client = await app.connect({ headers: { 'x-api-key': CI_KEY } })
    keys.state.down = true
    app.timers.advance(RECHECK)
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(client.events).toEqual([])
    keys.state.down = false
    keys.revoke(CI_KEY)
    app.timers.advance(RECHECK)
    expect(await client.nextEvent('session', 1_000)).toEqual({ event: 'session', data: { state: 'cleared' } })
  })

  it('an anonymous login on the same socket after a logout is stored and bound as usual', async () => {
    await startWithApiKeys()
    const client = await app.connect({ headers: { 'x-api-key': CI_KEY } })
    await client.call('logout')
    await client.call('login', { userId: 'carol' })
    expect((await client.call('whoAmI')).result).toMatchObject({ userId: 'carol' })
    expect(await app.sessions.listUserSessions('carol')).toHaveLength(1)
    expect(app.channelSessions.boundSessionCount).toBe(1)
  })
})

describe('a stateless token on a socket', () => {
  it('a stateless JWT offered as the subprotocol token authenticates the connection, and a tampered one does not', async () => {
    const stateless = createStatelessJwtSessions({ secrets: ['stateless-socket-test-secret-0123456789abcdef'], logger: silentLogger })
    app = await startTestApp({ authenticator: () => stateless.authenticator })
    const dana = new SessionState<UserSession>()
    dana.resumeTransient({ userId: 'dana' })
    const token = await stateless.jwtFor(dana).sign()
    const client = await app.connect({ protocols: bearerSubprotocols(token) })
    expect((await client.call('whoAmI')).result).toEqual({ userId: 'dana' })
    expect(app.channelSessions.boundSessionCount).toBe(0)
    const tampered = await app.connect({ protocols: bearerSubprotocols(`${token.slice(0, -2)}AA`) })
    expect((await tampered.call('maybeMe')).result).toBeNull()
  })
})
