// Your Pikku app: functions, routes and sessions, shared by every host below.
import {
  createMemoryStore,
  createRunner,
  createSessionManager,
  pikkuFunc,
  pikkuSessionlessFunc,
  UnauthorizedError,
  type SessionStore,
} from '@pikku/core'
import { createHTTPHandler, wireHTTP } from '@pikku/http'
import { createHTTPSessions } from '@pikku/middleware-http-session'

export interface UserSession {
  userId: string
  email: string
  preferences: Record<string, unknown>
}

declare module '@pikku/core' {
  interface Register {
    userSession: UserSession
  }
}

// Stand-ins for your user table and password check.
const users = [{ id: 'u-alice', email: 'alice@example.com', password: 'alice-password' }]

export const login = pikkuSessionlessFunc<{ email: string; password: string }, { userId: string }>({
  func: async (_services, { email, password }, { session }) => {
    const user = users.find((candidate) => candidate.email === email && candidate.password === password)
    if (user === undefined) throw new UnauthorizedError('Invalid email or password')
    await session.set({ userId: user.id, email: user.email, preferences: {} })
    return { userId: user.id }
  },
})

export const getProfile = pikkuFunc<void, UserSession>({
  func: async (_services, _data, { session }) => session.get(),
})

export const updatePreferences = pikkuFunc<Record<string, unknown>, UserSession>({
  func: async (_services, preferences, { session }) => session.update({ preferences }),
})

export const logout = pikkuFunc<void, { loggedOut: true }>({
  func: async (_services, _data, { session }) => {
    await session.clear()
    return { loggedOut: true }
  },
})

// Use a Redis or PostgreSQL store when more than one process serves the app. The memory store is
// kept on globalThis because Next.js loads this module once for its route handlers and once more
// for its pages, and both must see the same sessions.
const process_ = globalThis as typeof globalThis & { pikkuSessionStore?: SessionStore<UserSession> }
export const sessions = createSessionManager({ store: (process_.pikkuSessionStore ??= createMemoryStore<UserSession>()) })
export const httpSessions = createHTTPSessions({ sessions })

export const handler = createHTTPHandler({
  runner: createRunner({ services: {} }),
  middleware: [httpSessions.middleware],
  routes: [
    wireHTTP({ method: 'POST', route: '/login', func: login }),
    wireHTTP({ method: 'GET', route: '/profile', func: getProfile }),
    wireHTTP({ method: 'PUT', route: '/preferences', func: updatePreferences }),
    wireHTTP({ method: 'POST', route: '/logout', func: logout }),
  ],
})
