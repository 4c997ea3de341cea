import {
  createMemoryStore,
  createRunner,
  createSessionManager,
  pikkuFunc,
  pikkuSessionlessFunc,
  silentLogger,
  UnauthorizedError,
  type Logger,
  type SessionManager,
  type SessionStore,
  type UserSession,
} from '@pikku/core'
import { createTestClock, type TestClock } from '@pikku/core/testing'
import { createHTTPHandler, wireHTTP, type RoutedHTTPHandler } from '@pikku/http'
import { createHTTPSessions, type HTTPSessions } from '@pikku/middleware-http-session'

/** The session of the scenario app. The kit declares no `Register`, so test apps may declare their own. */
export interface ScenarioSession {
  userId: string
  email: string
  preferences: Record<string, unknown>
}

const USERS = [{ id: 'u-alice', email: 'alice@example.com', password: 'alice-password' }]

/**
 * What an identity provider would answer for an authorization code in an OAuth callback: the
 * session to log in with, or undefined for an unknown code.
 */
export function identityProvider(code: unknown): UserSession | undefined {
  const user = USERS.find((candidate) => candidate.id === `u-${String(code)}`)
  return user === undefined ? undefined : ({ userId: user.id, email: user.email, preferences: {} } satisfies ScenarioSession as UserSession)
}

const login = pikkuSessionlessFunc<{ email: string; password: string }, { userId: string }>({
  func: async (_services, data, { session }) => {
    const user = USERS.find((candidate) => candidate.email === data?.email && candidate.password === data?.password)
    if (user === undefined) throw new UnauthorizedError('Invalid email or password')
    await session.set({ userId: user.id, email: user.email, preferences: {} } satisfies ScenarioSession as UserSession)
    return { userId: user.id }
  },
})

const getProfile = pikkuFunc<void, UserSession>({ func: async (_services, _data, { session }) => session.get() })

const updatePreferences = pikkuFunc<Record<string, unknown>, UserSession>({
  func: async (_services, data, { session }) => session.update({ preferences: data } as Partial<UserSession>),
})

const logout = pikkuFunc<void, { loggedOut: true }>({
  func: async (_services, _data, { session }) => {
    await session.clear()
    return { loggedOut: true }
  },
})

export interface ScenarioAppOptions {
  /** @default a fresh test clock */
  clock?: TestClock
  /** @default a memory store on `clock` */
  store?: SessionStore
  /** The runner's logger (where an unexpected error's detail goes). @default silentLogger */
  logger?: Logger
  /** The handler's body limit in bytes. @default the handler's (1 MiB) */
  bodyLimit?: number
}

export interface ScenarioApp {
  readonly handler: RoutedHTTPHandler
  readonly httpSessions: HTTPSessions
  readonly sessions: SessionManager
  readonly store: SessionStore
  readonly clock: TestClock
}

/**
 * The Pikku side of every host's test app: `POST /login`, `GET /profile`, `PUT /preferences` and
 * `POST /logout` with stored cookie sessions (the defaults: Secure, `__Host-`, SameSite=Lax; a
 * cookie jar keeps Secure cookies for http://127.0.0.1, as browsers do for loopback).
 */
export function createScenarioApp(options: ScenarioAppOptions = {}): ScenarioApp {
  const clock = options.clock ?? createTestClock()
  const store = options.store ?? createMemoryStore({ clock: clock.now, sweepInterval: 0 })
  const sessions = createSessionManager({ store, clock: clock.now })
  const httpSessions = createHTTPSessions({ sessions, logger: silentLogger })
  const runner = createRunner({ services: {} as never, logger: options.logger ?? silentLogger })
  const handler = createHTTPHandler({
    runner,
    ...(options.bodyLimit === undefined ? {} : { bodyLimit: options.bodyLimit }),
    middleware: [httpSessions.middleware],
    routes: [
      wireHTTP({ method: 'POST', route: '/login', func: login }),
      wireHTTP({ method: 'GET', route: '/profile', func: getProfile }),
      wireHTTP({ method: 'PUT', route: '/preferences', func: updatePreferences }),
      wireHTTP({ method: 'POST', route: '/logout', func: logout }),
    ],
  })
  return { handler, httpSessions, sessions, store, clock }
}

/** A store that fails every call while `down` is true, as one whose server went away does. */
export function storeWithOutage(store: SessionStore): { readonly store: SessionStore; down: boolean } {
  const control = { store, down: false }
  control.store = new Proxy(store, {
    get(target, name: keyof SessionStore) {
      const member = target[name]
      if (typeof member !== 'function') return member
      return (...args: unknown[]) =>
        control.down ? Promise.reject(new Error('ECONNREFUSED: the session store is down')) : (member as (...values: unknown[]) => unknown).apply(target, args)
    },
  })
  return control
}
