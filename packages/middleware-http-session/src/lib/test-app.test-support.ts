import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  createMemoryStore,
  createRunner,
  createSessionManager,
  pikkuFunc,
  pikkuSessionlessFunc,
  silentLogger,
  UnauthorizedError,
  type Logger,
  type PikkuMiddleware,
  type SessionManager,
  type SessionManagerOptions,
  type SessionRecord,
  type SessionStore,
  type UserSession,
  type SessionListEntry,
} from '@pikku/core'
import { type SessionState } from '@pikku/core/protocol'
import { createTestClock, type TestClock } from '@pikku/core/testing'
import { syncTwinOf, withSyncTwin } from '@pikku/core/store'
import { createHTTPHandler, toNodeListener, wireHTTP, type RoutedHTTPHandler } from '@pikku/http'
import { createHTTPSessions, type HTTPSessions, type HTTPSessionsOptions, type JwtService } from './http-sessions.js'
import { CookieClient } from './cookie-client.test-support.js'

export interface TestSession {
  userId: string
  email: string
  role: 'user' | 'admin'
  preferences: Record<string, unknown>
}

export interface TestServices {
  sessions: SessionManager
  jwt: JwtService
}

declare module '@pikku/core' {
  interface Register {
    userSession: TestSession
    services: TestServices
  }
}

// Test-only users; the demo app hashes its passwords, tests need no such thing.
const USERS = [
  { id: 'u-alice', email: 'alice@example.com', password: 'alice-password', role: 'user' as const },
  { id: 'u-admin', email: 'admin@example.com', password: 'admin-password', role: 'admin' as const },
]

export const login = pikkuSessionlessFunc<{ email: string; password: string }, { token?: string; user: { id: string; email: string; role: string } }>({
  func: async ({ jwt }, data, { session }) => {
    const user = USERS.find((candidate) => candidate.email === data?.email && candidate.password === data?.password)
    if (user === undefined) throw new UnauthorizedError('Invalid credentials')
    await session.set({ userId: user.id, email: user.email, role: user.role, preferences: {} })
    let token: string | undefined
    try {
      token = await jwt.sign()
    } catch {
      token = undefined // strategy without bearer tokens
    }
    return { ...(token === undefined ? {} : { token }), user: { id: user.id, email: user.email, role: user.role } }
  },
})

/** Starts a session without credentials (a guest account): a login an app might wire on GET. */
export const guestLogin = pikkuSessionlessFunc<void, { userId: string }>({
  func: async (_services, _data, { session }) => {
    await session.set({ userId: 'u-guest', email: 'guest@example.com', role: 'user', preferences: {} })
    return { userId: 'u-guest' }
  },
})

/** Records the visit in the session: a session change an app might make on GET. */
export const recordVisit = pikkuFunc<void, { visits: number }>({
  func: async (_services, _data, { session }) => {
    const visits = Number((await session.get()).preferences['visits'] ?? 0) + 1
    await session.update({ preferences: { visits } })
    return { visits }
  },
})

export const logout = pikkuFunc<void, { success: boolean }>({
  func: async (_services, _data, { session }) => {
    await session.clear()
    return { success: true }
  },
})

export const logoutEverywhere = pikkuFunc<void, { ended: number }>({
  func: async ({ sessions }, _data, { session }) => {
    const { userId } = await session.get()
    return { ended: await sessions.revokeUser(userId) }
  },
})

/** Ends every session of the user from outside the call's session, then changes the session. */
export const revokedMidCall = pikkuFunc<void, { ok: boolean }>({
  func: async ({ sessions }, _data, { session }) => {
    const { userId } = await session.get()
    await sessions.revokeUser(userId)
    await session.update({ preferences: { late: true } })
    return { ok: true }
  },
})

/** The caller's sessions on every protocol ("where you're signed in"). */
export const listSessions = pikkuFunc<void, SessionListEntry[]>({
  func: async (_services, _data, { session }) => session.list(),
})

export const revokeSession = pikkuFunc<{ handle: string }, { success: true }>({
  func: async (_services, data, { session }) => {
    await session.revoke(data.handle)
    return { success: true }
  },
})

export const revokeOtherSessions = pikkuFunc<void, { revoked: number }>({
  func: async (_services, _data, { session }) => ({ revoked: await session.revokeOthers() }),
})

export const getProfile = pikkuFunc<void, TestSession>({
  func: async (_services, _data, { session }) => session.get(),
})

export const getPublicData = pikkuSessionlessFunc<void, { greeting: string; email: string | null }>({
  func: async (_services, _data, { session }) => ({ greeting: 'hello', email: (await session.get())?.email ?? null }),
})

export const updatePreferences = pikkuFunc<Record<string, unknown>, TestSession>({
  func: async (_services, data, { session }) => session.update({ preferences: data }),
})

export const issueToken = pikkuFunc<void, { token: string }>({
  func: async ({ jwt }) => ({ token: await jwt.sign({ scope: 'api' }) }),
})

export const echo = pikkuSessionlessFunc<unknown, unknown>({
  func: async (_services, data) => ({ data }),
})

export const routes = [
  wireHTTP({ method: 'POST', route: '/login', func: login }),
  wireHTTP({ method: 'POST', route: '/logout', func: logout }),
  wireHTTP({ method: 'POST', route: '/logout-everywhere', func: logoutEverywhere }),
  wireHTTP({ method: 'GET', route: '/profile', func: getProfile }),
  wireHTTP({ method: 'POST', route: '/revoked-mid-call', func: revokedMidCall }),
  wireHTTP({ method: 'GET', route: '/public', func: getPublicData }),
  wireHTTP({ method: 'POST', route: '/public', func: getPublicData }),
  wireHTTP({ method: 'PUT', route: '/preferences', func: updatePreferences }),
  wireHTTP({ method: 'GET', route: '/token', func: issueToken }),
  wireHTTP({ method: 'POST', route: '/echo', func: echo }),
  wireHTTP({ method: 'GET', route: '/sessions', func: listSessions }),
  wireHTTP({ method: 'POST', route: '/sessions/revoke', func: revokeSession }),
  wireHTTP({ method: 'POST', route: '/sessions/revoke-others', func: revokeOtherSessions }),
  // Session changes on a safe method, as some apps wire them (a "log out" link, a guest login).
  wireHTTP({ method: 'GET', route: '/logout-link', func: logout }),
  wireHTTP({ method: 'GET', route: '/guest', func: guestLogin }),
  wireHTTP({ method: 'GET', route: '/visit', func: recordVisit }),
]

export const SECRET_A = 'a-test-secret-that-is-long-enough-0001'
export const SECRET_B = 'b-test-secret-that-is-long-enough-0002'

/** A store that counts writes and can be taken down, to test renewal throttling and outages. */
export interface InstrumentedStore extends SessionStore<TestSession> {
  writes: string[]
  down: boolean
}

type StoreGet = (id: string) => Promise<SessionRecord<TestSession> | undefined>

function withSyncTwinOf(get: StoreGet, innerGet: StoreGet, up: () => boolean): StoreGet {
  const twin = syncTwinOf(innerGet)
  return twin === undefined ? get : withSyncTwin(get, (id: string) => (up() ? twin(id) : undefined))
}

export function instrumentStore(inner: SessionStore<TestSession>): InstrumentedStore {
  const failIfDown = (): void => {
    if (wrapper.down) throw new Error('ECONNREFUSED: the session store is down')
  }
  const wrapper: InstrumentedStore = {
    writes: [],
    down: false,
    // With the inner store's synchronous twin while the store is up, so these tests take the path a
    // memory store or a read-cache hit takes (no promise); a store that is down answers through get.
    get: withSyncTwinOf(
      async (id: string) => {
        failIfDown()
        return inner.get(id)
      },
      inner.get,
      () => !wrapper.down,
    ),
    async set(record: SessionRecord<TestSession>) {
      failIfDown()
      wrapper.writes.push('set')
      return inner.set(record)
    },
    async update(id, version, change) {
      failIfDown()
      wrapper.writes.push('update')
      return inner.update(id, version, change)
    },
    async touch(id, lastActiveAt, expiresAt) {
      failIfDown()
      wrapper.writes.push('touch')
      return inner.touch(id, lastActiveAt, expiresAt)
    },
    async delete(id, reason) {
      failIfDown()
      wrapper.writes.push('delete')
      return inner.delete(id, reason)
    },
    listByUser: (userId) => inner.listByUser(userId),
    async deleteByUser(userId, options) {
      failIfDown()
      wrapper.writes.push('deleteByUser')
      return inner.deleteByUser(userId, options)
    },
    subscribe: (listener) => inner.subscribe(listener),
  }
  return wrapper
}

export interface Strategy {
  readonly middleware: PikkuMiddleware
  jwtFor?(session: SessionState<UserSession>): JwtService
}

export interface RunningServer {
  readonly base: string
  client(): CookieClient
  close(): Promise<void>
}

export interface ServeOptions {
  strategy: Strategy
  sessions: SessionManager
  logger?: Logger
  /** Protocol middleware before the strategy's (an authenticator middleware). @default [] */
  before?: readonly PikkuMiddleware[]
}

/** The test app's transport-neutral handler with a strategy as protocol middleware. */
export function buildHandler(options: ServeOptions): RoutedHTTPHandler {
  const { strategy } = options
  const noJwt: JwtService = { sign: () => Promise.reject(new Error('no bearer tokens in this strategy')) }
  const runner = createRunner({
    services: { sessions: options.sessions, jwt: noJwt },
    logger: options.logger ?? silentLogger,
    wireServices: (_services, wire) => (strategy.jwtFor === undefined ? {} : { jwt: strategy.jwtFor(wire.session) }),
  })
  return createHTTPHandler({ runner, routes, middleware: [...(options.before ?? []), strategy.middleware] })
}

/** Serves the test app through a strategy on a real listening node:http server. */
export async function serve(options: ServeOptions): Promise<RunningServer> {
  const handler = buildHandler(options)
  const server: Server = createServer(toNodeListener(handler))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    base,
    client: () => new CookieClient(base),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

export interface StoredApp extends RunningServer {
  readonly clock: TestClock
  readonly store: InstrumentedStore
  readonly sessions: SessionManager
  readonly httpSessions: HTTPSessions
  readonly logged: string[]
  /** Another server on the same store and clock with different options (key rotation). */
  restart(options: Partial<HTTPSessionsOptions>): Promise<StoredApp>
}

export interface StoredAppOptions {
  http?: Partial<HTTPSessionsOptions>
  manager?: Partial<SessionManagerOptions<TestSession>>
}

export const MINUTE = 60_000
export const HOUR = 60 * MINUTE

/** The test app with stored sessions (cookie + bearer), an injected clock and a counting store. */
export async function startStoredApp(options: StoredAppOptions = {}, shared?: { clock: TestClock; store: InstrumentedStore; sessions: SessionManager }): Promise<StoredApp> {
  const clock = shared?.clock ?? createTestClock()
  const store = shared?.store ?? instrumentStore(createMemoryStore<TestSession>({ clock: clock.now, sweepInterval: 0 }))
  const sessions =
    shared?.sessions ??
    createSessionManager<TestSession>({ store, clock: clock.now, idleTimeout: HOUR, absoluteTimeout: 8 * HOUR, renewalInterval: 5 * MINUTE, ...options.manager })
  const logged: string[] = []
  const logger: Logger = { ...silentLogger, warn: (message) => logged.push(message), error: (message) => logged.push(message) }
  const httpOptions: HTTPSessionsOptions = { sessions, jwt: { secrets: [SECRET_A] }, logger, ...options.http }
  const httpSessions = createHTTPSessions(httpOptions)
  const server = await serve({ strategy: httpSessions, sessions, logger })
  return {
    ...server,
    clock,
    store,
    sessions,
    httpSessions,
    logged,
    restart: (next) => startStoredApp({ http: { ...options.http, ...next } }, { clock, store, sessions }),
  }
}

/** The session cookie's name with the default options: `secure` is on, so the `__Host-` prefix is too. */
export const SESSION_COOKIE = '__Host-pikku-session'

export const ALICE = { email: 'alice@example.com', password: 'alice-password' }
export const ADMIN = { email: 'admin@example.com', password: 'admin-password' }
