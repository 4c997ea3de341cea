import { describe, expect, it } from 'vitest'
import { UnauthorizedError } from './errors.js'
import { pikkuFunc, pikkuSessionlessFunc } from './function.js'
import { silentLogger } from './logger.js'
import { createMemoryStore } from './memory-store.js'
import { pikkuMiddleware, type PikkuMiddleware } from './middleware.js'
import { recordingStore } from './recording-store.test-support.js'
import type { UserSession } from './register.js'
import { createRunner } from './runner.js'
import { createSessionManager } from './session-manager.js'
import { SessionState } from './session-state.js'
import type { SessionEvent } from './session-store.js'
import { createTestClock } from './test-clock.js'
import { hashSessionToken } from './session-token.js'
import { createTokenProtocol } from './token-protocol.test-support.js'

// Issue 15, point 3: a successful login always gets a new session id and token, and ends the
// session the client had, whoever it belonged to (OWASP: renew the session id on any
// authentication). A set() of the same user outside a login changes the session in place.

interface AppSession extends UserSession {
  email?: string
  preferences?: Record<string, unknown>
  lastActivity?: string
}

const alice: AppSession = { userId: 'alice', email: 'alice@example.com' }

function setup(middleware: PikkuMiddleware[] = []) {
  const clock = createTestClock()
  const store = recordingStore(createMemoryStore<UserSession>({ clock: clock.now, sweepInterval: 0 }))
  const manager = createSessionManager<UserSession>({ store, clock: clock.now })
  const runner = createRunner({ services: {}, logger: silentLogger, middleware })
  const events: SessionEvent[] = []
  store.subscribe((event) => events.push(event))
  return { clock, store, manager, runner, events, call: createTokenProtocol(runner, manager) }
}

// The documentation's login: a sessionless function (auth: false) that sets the session.
const login = pikkuSessionlessFunc<{ userId: string }, string>({
  func: async (_services, data, { session }) => {
    if (data.userId === 'mallory') throw new UnauthorizedError('Invalid credentials')
    await session.set({ userId: data.userId, email: `${data.userId}@example.com` } as AppSession)
    return 'welcome'
  },
  auth: false,
})

// The documentation's updatePreferences: an auth: true function that spreads and set()s.
const updatePreferences = pikkuFunc<Record<string, unknown>, void>({
  func: async (_services, data, { session }) => {
    const user = (await session.get()) as AppSession
    await session.set({ ...user, preferences: data } as AppSession)
  },
})

const whoAmI = pikkuFunc<void, string>({
  func: async (_services, _data, { session }) => (await session.get()).userId,
})

const publicData = pikkuSessionlessFunc<void, string>({
  func: async (_services, _data, { session }) => (await session.get())?.userId ?? 'anonymous',
  auth: false,
})

// The documentation's refreshSessionMiddleware: set() of the same user around every call.
const refreshSessionMiddleware = pikkuMiddleware(async (_services, wire, next) => {
  const user = (await wire.session.get()) as AppSession | undefined
  if (user) await wire.session.set({ ...user, lastActivity: 'now' } as AppSession)
  return await next()
})

describe('logging in rotates the session, always', () => {
  it('logging in again as the same user with the old token gets a new token, and the old one stops working', async () => {
    const { call, events } = setup()
    const first = await call(login, { userId: 'alice' })
    const oldId = hashSessionToken(first.token!)
    const second = await call(login, { userId: 'alice' }, first.token)
    expect(second.output).toBe('welcome')
    expect(second.commit?.kind).toBe('created')
    expect(second.token).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(second.token).not.toBe(first.token)
    expect((await call(whoAmI, undefined, second.token)).output).toBe('alice')
    // The session from before the login is gone, and long-lived connections are told so.
    expect((await call(whoAmI, undefined, first.token)).error?.code).toBe('UNAUTHORIZED')
    expect(events).toContainEqual({ type: 'deleted', id: oldId, userId: 'alice', reason: 'cleared' })
  })

  it('the same holds for a login as another user (the fixation defence it always had)', async () => {
    const { call } = setup()
    const alices = await call(login, { userId: 'alice' })
    const bobs = await call(login, { userId: 'bob' }, alices.token)
    expect(bobs.token).not.toBe(alices.token)
    expect((await call(whoAmI, undefined, bobs.token)).output).toBe('bob')
    expect((await call(whoAmI, undefined, alices.token)).error?.code).toBe('UNAUTHORIZED')
  })

  it('a failed login leaves the session the client had as it was', async () => {
    const { call, store } = setup()
    const first = await call(login, { userId: 'alice' })
    const writes = store.writes.length
    const failed = await call(login, { userId: 'mallory' }, first.token)
    expect(failed.error?.code).toBe('UNAUTHORIZED')
    expect(store.writes.length).toBe(writes)
    expect((await call(whoAmI, undefined, first.token)).output).toBe('alice')
  })

  it('a login function that sets the session twice mints one new session, not two', async () => {
    const { call, store } = setup()
    const first = await call(login, { userId: 'alice' })
    const twice = pikkuSessionlessFunc<void, void>({
      func: async (_services, _data, { session }) => {
        await session.set({ userId: 'alice' })
        await session.set({ userId: 'alice', email: 'second@example.com' } as AppSession)
      },
      auth: false,
    })
    const before = store.calls.filter((c) => c.method === 'set').length
    const result = await call(twice, undefined, first.token)
    expect(result.commit?.kind).toBe('created')
    expect(store.calls.filter((c) => c.method === 'set').length).toBe(before + 1)
    expect(result.commit?.kind === 'created' && result.commit.record.data).toEqual({ userId: 'alice', email: 'second@example.com' })
  })
})

describe('set() of the same user outside a login changes the session in place', () => {
  it("the documentation's updatePreferences keeps the token and updates the stored session", async () => {
    const { call } = setup()
    const { token } = await call(login, { userId: 'alice' })
    const updated = await call(updatePreferences, { theme: 'dark' }, token)
    expect(updated.commit?.kind).toBe('updated')
    expect(updated.token).toBe(token)
    expect((await call(whoAmI, undefined, token)).output).toBe('alice')
  })

  it("the documentation's refreshSessionMiddleware never rotates, even around a login function or a sessionless one", async () => {
    const { call } = setup([refreshSessionMiddleware])
    const { token } = await call(login, { userId: 'alice' })
    const onPublic = await call(publicData, undefined, token)
    expect(onPublic.output).toBe('alice')
    expect(onPublic.commit?.kind).toBe('updated')
    expect(onPublic.token).toBe(token)
    const onAuthed = await call(whoAmI, undefined, token)
    expect(onAuthed.commit?.kind).toBe('unchanged')
    expect(onAuthed.token).toBe(token)
    // The login function itself still rotates: the middleware ran before it, in place.
    const again = await call(login, { userId: 'alice' }, token)
    expect(again.commit?.kind).toBe('created')
    expect(again.token).not.toBe(token)
  })

  it('a set() made after the login function returned (middleware after next()) is in place', async () => {
    let calls = 0
    const after = pikkuMiddleware(async (_services, wire, next) => {
      await next()
      const user = (await wire.session.get()) as AppSession | undefined
      if (user) await wire.session.set({ ...user, lastActivity: `call ${++calls}` } as AppSession)
    })
    const { call } = setup([after])
    const { token } = await call(login, { userId: 'alice' })
    // publicData is an auth: false function; the middleware's set() runs once it has returned.
    const result = await call(publicData, undefined, token)
    expect(result.commit?.kind).toBe('updated')
    expect(result.token).toBe(token)
  })

  it('update() in a sessionless function, and set(value, { login: false }), change the session in place', async () => {
    const { call } = setup()
    const { token } = await call(login, { userId: 'alice' })
    const viaUpdate = pikkuSessionlessFunc<void, void>({
      func: async (_services, _data, { session }) => {
        if (await session.get()) await session.update({ lastActivity: 'update' } as Partial<AppSession>)
      },
      auth: false,
    })
    const viaSet = pikkuSessionlessFunc<void, void>({
      func: async (_services, _data, { session }) => {
        const user = await session.get()
        if (user) await session.set({ ...user, lastActivity: 'set' } as AppSession, { login: false })
      },
      auth: false,
    })
    for (const fn of [viaUpdate, viaSet]) {
      const result = await call(fn, undefined, token)
      expect(result.commit?.kind).toBe('updated')
      expect(result.token).toBe(token)
    }
  })

  it('set(value, { login: true }) rotates anywhere: in an auth: true function (a re-authentication) and in middleware', async () => {
    const reauthenticate = pikkuFunc<void, void>({
      func: async (_services, _data, { session }) => {
        await session.set({ ...(await session.get()) }, { login: true })
      },
    })
    const { call } = setup()
    const first = await call(login, { userId: 'alice' })
    const second = await call(reauthenticate, undefined, first.token)
    expect(second.commit?.kind).toBe('created')
    expect(second.token).not.toBe(first.token)
    expect((await call(whoAmI, undefined, first.token)).error?.code).toBe('UNAUTHORIZED')

    const strategy = pikkuMiddleware(async (_services, wire, next) => {
      const user = await wire.session.get()
      if (user) await wire.session.set({ ...user }, { login: true })
      await next()
    })
    const withStrategy = setup([strategy])
    const token = (await withStrategy.call(login, { userId: 'alice' })).token
    const rotated = await withStrategy.call(whoAmI, undefined, token)
    expect(rotated.commit?.kind).toBe('created')
    expect(rotated.token).not.toBe(token)
  })

  it('the login scope ends with the function, also when it throws', async () => {
    const state = new SessionState<UserSession>()
    const runner = createRunner({ services: {}, logger: silentLogger })
    const failing = pikkuSessionlessFunc<void, void>({
      func: async () => {
        throw new Error('boom')
      },
      auth: false,
    })
    await expect(runner.run(failing, undefined, { protocol: 'test', session: state })).rejects.toMatchObject({ code: 'INTERNAL' })
    const synchronous = pikkuSessionlessFunc<void, void>({ func: () => undefined, auth: false })
    await runner.run(synchronous, undefined, { protocol: 'test', session: state })
    state.resume({ id: 'id', userId: 'alice', data: { userId: 'alice' }, version: 1, createdAt: 0, lastActiveAt: 0, expiresAt: 1 })
    await state.set({ userId: 'alice', theme: 'dark' } as UserSession)
    expect(state.pending).toBeUndefined()
    expect(state.patch?.has('theme')).toBe(true)
  })

  it('set() refuses a login option that is not a boolean', async () => {
    const state = new SessionState<UserSession>()
    await expect(state.set({ userId: 'alice' }, { login: 'yes' as unknown as boolean })).rejects.toThrow(/options.login must be true or false/)
  })
})
