import { createHash, timingSafeEqual } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { type AnyPikkuFunction, pikkuFunc, pikkuSessionlessFunc } from './function.js'
import { silentLogger } from './logger.js'
import { createMemoryStore } from './memory-store.js'
import { pikkuMiddleware, type PikkuMiddleware } from './middleware.js'
import { recordingStore } from './recording-store.test-support.js'
import type { UserSession } from './register.js'
import { createRunner } from './runner.js'
import { createSessionManager, type SessionManager } from './session-manager.js'
import { SessionState } from './session-state.js'
import { createTestClock } from './test-clock.js'
import type { PikkuWire } from './wire.js'

// What a protocol adapter of this test puts on the wire, declared the way protocol packages do.
declare module './wire.js' {
  interface PikkuWire {
    apiKey?: string
    headers?: { readonly request: Readonly<Record<string, string | undefined>>; readonly response: Record<string, string> }
  }
}

/**
 * API-key sessions: each key maps to a fixed session; nothing is stored per call. Keys are
 * compared as SHA-256 digests in constant time, so neither the key table nor timing leaks them.
 */
function apiKeySessions(keys: Readonly<Record<string, UserSession>>): PikkuMiddleware {
  const digest = (key: string): Buffer => createHash('sha256').update(key).digest()
  const table = Object.entries(keys).map(([key, session]) => ({ digest: digest(key), session }))
  return pikkuMiddleware(async (_services, wire, next) => {
    if (typeof wire.apiKey === 'string') {
      const offered = digest(wire.apiKey)
      const match = table.find((entry) => timingSafeEqual(entry.digest, offered))
      if (match !== undefined) wire.session.resumeTransient({ ...match.session })
    }
    await next()
  })
}

/** A store-backed session carried in an `x-session-token` header, in both directions. */
function headerTokenSessions(manager: SessionManager): PikkuMiddleware {
  return pikkuMiddleware(async (_services, wire, next) => {
    const record = await manager.loadByToken(wire.headers?.request['x-session-token'])
    if (record !== undefined) wire.session.resume(record)
    await next()
    // Persist before the response leaves, then tell the client what changed.
    const result = await manager.commit(wire.session)
    if (wire.headers === undefined) return
    if (result.kind === 'created') wire.headers.response['x-session-token'] = result.token
    if (result.kind === 'cleared' || result.kind === 'revoked') wire.headers.response['x-session-token'] = ''
  })
}

const whoAmI = pikkuFunc<void, string>({ func: async (_services, _data, { session }) => (await session.get()).userId })

describe('a custom API-key session strategy built from core’s building blocks', () => {
  const runner = createRunner({ services: {}, logger: silentLogger })
  const apiKeys = apiKeySessions({ 'key-for-ci-0123456789': { userId: 'ci-bot' } })
  const call = (apiKey: string | undefined) => {
    const wire: PikkuWire = { protocol: 'test', session: new SessionState(), apiKey }
    return runner.run(whoAmI, undefined, wire, { middleware: [apiKeys] })
  }

  it('a known key runs a pikkuFunc as the key’s user', async () => {
    expect(await call('key-for-ci-0123456789')).toBe('ci-bot')
  })

  it('an unknown or missing key is 401', async () => {
    await expect(call('key-for-ci-0123456788')).rejects.toMatchObject({ code: 'UNAUTHORIZED' })
    await expect(call('')).rejects.toMatchObject({ code: 'UNAUTHORIZED' })
    await expect(call(undefined)).rejects.toMatchObject({ code: 'UNAUTHORIZED' })
  })

  it('a key session is never written to a store, even if the function changes it', async () => {
    const store = recordingStore(createMemoryStore({ sweepInterval: 0 }))
    const manager = createSessionManager({ store })
    const rename = pikkuFunc<void, void>({ func: async (_services, _data, { session }) => session.set({ userId: 'renamed' }) })
    const wire: PikkuWire = { protocol: 'test', session: new SessionState(), apiKey: 'key-for-ci-0123456789' }
    await runner.run(rename, undefined, wire, { middleware: [apiKeys] })
    expect(await manager.commit(wire.session)).toEqual({ kind: 'unchanged' })
    expect(store.calls).toEqual([])
  })
})

describe('a custom store-backed header-token strategy', () => {
  function setup() {
    const clock = createTestClock()
    const store = createMemoryStore({ clock: clock.now, sweepInterval: 0 })
    const manager = createSessionManager({ store, clock: clock.now })
    const runner = createRunner({ services: {}, logger: silentLogger })
    const sessions = headerTokenSessions(manager)
    const call = async (fn: AnyPikkuFunction, token?: string) => {
      const headers = { request: { 'x-session-token': token }, response: {} as Record<string, string> }
      const wire: PikkuWire = { protocol: 'test', session: manager.createState(), headers }
      const output = await runner.run(fn, undefined, wire, { middleware: [sessions] }).catch((error: { code: string }) => error.code)
      return { output, token: headers.response['x-session-token'] }
    }
    return { store, manager, call }
  }

  const loginAs = (userId: string) =>
    pikkuSessionlessFunc<void, string>({
      func: async (_services, _data, { session }) => {
        // Re-authentication: a fresh session id even when the same user logs in again.
        await session.clear()
        await session.set({ userId })
        return 'welcome'
      },
      auth: false,
    })
  const login = loginAs('alice')
  const logout = pikkuFunc<void, string>({
    func: async (_services, _data, { session }) => {
      await session.clear()
      return 'bye'
    },
  })

  it('a login hands out a new token, which then loads the session', async () => {
    const { call } = setup()
    const loggedIn = await call(login)
    expect(loggedIn).toEqual({ output: 'welcome', token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) })
    expect(await call(whoAmI, loggedIn.token)).toEqual({ output: 'alice', token: undefined })
  })

  it('logging in again replaces the token and the old one stops working', async () => {
    const { call } = setup()
    const first = await call(login)
    const second = await call(login, first.token)
    expect(second.token).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(second.token).not.toBe(first.token)
    expect((await call(whoAmI, first.token)).output).toBe('UNAUTHORIZED')
    expect((await call(whoAmI, second.token)).output).toBe('alice')
    const third = await call(loginAs('bob'), second.token)
    expect((await call(whoAmI, second.token)).output).toBe('UNAUTHORIZED')
    expect((await call(whoAmI, third.token)).output).toBe('bob')
  })

  it('a logout drops the token, and replaying it is 401', async () => {
    const { call, store } = setup()
    const { token } = await call(login)
    expect(await call(logout, token)).toEqual({ output: 'bye', token: '' })
    expect((await call(whoAmI, token)).output).toBe('UNAUTHORIZED')
    expect(store.size).toBe(0)
  })

  it('a garbage token is no session, not an error', async () => {
    const { call } = setup()
    expect((await call(whoAmI, 'not-a-token')).output).toBe('UNAUTHORIZED')
  })
})
