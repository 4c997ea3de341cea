import { createServer } from 'node:http'
import {
  BadRequestError,
  createRunner,
  createSessionManager,
  pikkuFunc,
  pikkuSessionlessFunc,
  silentLogger,
  type SessionStore,
} from '@pikku/core'
import { createHTTPHandler, toNodeListener, wireHTTP, type HTTPHandler } from '@pikku/http'
import { createHTTPSessions, type JwtService } from '@pikku/middleware-http-session'
import { BENCH_SECRET, FIXED_PROFILE, isLoginBody, isPreferences, newProfile, PUBLIC_BODY, type Preferences, type Profile } from '../app.js'
import { closeServer, listenOn } from '../node-body.js'
import type { RunningVariant } from '../variant.js'

interface BenchServices {
  /** Present in the bearer variant only. */
  jwt?: JwtService
}

declare module '@pikku/core' {
  interface Register {
    userSession: Profile
    services: BenchServices
  }
}

export interface PikkuVariantOptions {
  /** undefined: no session middleware at all (the functions answer a fixed profile). */
  store?: SessionStore<Profile>
  credential: 'none' | 'cookie' | 'bearer'
  /** Runs when the variant closes (store shutdown, clean-up). */
  onClose?: () => Promise<void>
  /** The session manager's clock (the write-count benchmark moves it past the renewal interval). */
  clock?: () => number
}

export const login = pikkuSessionlessFunc<unknown, { userId: string; token?: string }>({
  func: async (services, data, { session }) => {
    if (!isLoginBody(data)) throw new BadRequestError('POST /login takes { "username": string }')
    await session.set(newProfile(data.username))
    if (services.jwt === undefined) return { userId: data.username }
    return { userId: data.username, token: await services.jwt.sign() }
  },
})

/** The session-requiring function the WebSocket benchmark calls too. */
export const profile = pikkuFunc<void, Profile>({
  func: async (_services, _data, { session }) => session.get(),
})

const preferences = pikkuFunc<unknown, Preferences>({
  func: async (_services, data, { session }) => {
    if (!isPreferences(data)) throw new BadRequestError('PUT /preferences takes { "theme": string, "fontSize": number }')
    const next = await session.update({ preferences: { theme: data.theme, fontSize: data.fontSize } })
    return next.preferences
  },
})

/** Ends the caller's session (the revocation benchmark logs out through it). */
const logout = pikkuFunc<void, { loggedOut: true }>({
  func: async (_services, _data, { session }) => {
    await session.clear()
    return { loggedOut: true }
  },
})

const publicPage = pikkuSessionlessFunc<void, typeof PUBLIC_BODY>({ func: () => PUBLIC_BODY })

// The session-less twins: same routes, same JSON, no session anywhere.
const loginNoSession = pikkuSessionlessFunc<unknown, { userId: string }>({
  func: (_services, data) => {
    if (!isLoginBody(data)) throw new BadRequestError('POST /login takes { "username": string }')
    return { userId: data.username }
  },
})
const profileNoSession = pikkuSessionlessFunc<void, Profile>({ func: () => FIXED_PROFILE })
const preferencesNoSession = pikkuSessionlessFunc<unknown, Preferences>({
  func: (_services, data) => {
    if (!isPreferences(data)) throw new BadRequestError('PUT /preferences takes { "theme": string, "fontSize": number }')
    return { theme: data.theme, fontSize: data.fontSize }
  },
})

/** The app's transport-neutral handler (also timed in-process, without sockets). */
export function createPikkuHandler(options: Omit<PikkuVariantOptions, 'onClose'>): HTTPHandler {
  const sessionless = options.store === undefined
  const sessions = options.store === undefined ? undefined : createSessionManager<Profile>({ store: options.store, ...(options.clock === undefined ? {} : { clock: options.clock }) })
  const httpSessions =
    sessions === undefined
      ? undefined
      : createHTTPSessions({
          sessions,
          logger: silentLogger,
          // Plain HTTP on 127.0.0.1: the benchmark has no TLS.
          cookie: options.credential === 'cookie' ? { secure: false } : false,
          jwt: options.credential === 'bearer' ? { secrets: [BENCH_SECRET] } : false,
        })
  const runner = createRunner({
    services: {},
    logger: silentLogger,
    ...(options.credential === 'bearer' && httpSessions !== undefined
      ? { wireServices: (_services, wire) => ({ jwt: httpSessions.jwtFor(wire.session) }) }
      : {}),
  })
  return createHTTPHandler({
    runner,
    middleware: httpSessions === undefined ? [] : [httpSessions.middleware],
    routes: [
      wireHTTP({ method: 'POST', route: '/login', func: sessionless ? loginNoSession : login }),
      wireHTTP({ method: 'GET', route: '/profile', func: sessionless ? profileNoSession : profile }),
      wireHTTP({ method: 'PUT', route: '/preferences', func: sessionless ? preferencesNoSession : preferences }),
      wireHTTP({ method: 'GET', route: '/public', func: publicPage }),
      ...(sessionless ? [] : [wireHTTP({ method: 'POST', route: '/logout', func: logout })]),
    ],
  })
}

/** The app on Pikku's HTTP runtime (createHTTPHandler + toNodeListener), as a user would write it. */
export function startPikku(options: PikkuVariantOptions): RunningVariant {
  const server = createServer(toNodeListener(createPikkuHandler(options)))
  return {
    listen: (host) => listenOn(server, host),
    async close() {
      await closeServer(server)
      await options.onClose?.()
    },
  }
}
