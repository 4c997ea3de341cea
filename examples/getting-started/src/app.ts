import { createMemoryStore, createRunner, createSessionManager, type Logger, type SessionStore } from '@pikku/core'
import { createHTTPHandler, type RoutedHTTPHandler, wireHTTP } from '@pikku/http'
import { createHTTPSessions } from '@pikku/middleware-http-session'
import { createMemoryDatabase } from './database.js'
import { getProfile, getPublicData, login, logout, refreshSessionMiddleware, updatePreferences } from './functions.js'
import type { Services, UserRow, UserSession } from './types/application-types.js'

export interface AppOptions {
  /** Keys that sign bearer tokens, newest first, each at least 32 bytes. */
  secrets: readonly string[]
  users: readonly UserRow[]
  /** Where sessions live. @default in memory */
  store?: SessionStore<UserSession>
  /** Send cookies with Secure; turn off only for plain http://localhost. @default true */
  secureCookies?: boolean
  /** @default a console logger (stderr) */
  logger?: Logger
}

export function createApp(options: AppOptions): RoutedHTTPHandler {
  const sessions = createSessionManager<UserSession>({ store: options.store ?? createMemoryStore<UserSession>(), logger: options.logger })
  const httpSessions = createHTTPSessions({
    sessions,
    jwt: { secrets: options.secrets },
    cookie: { secure: options.secureCookies ?? true },
    logger: options.logger,
  })
  // `database` is one object for the whole app; `jwt` signs a token for the session of the call
  // it runs in, so the runner binds a fresh one to every call.
  const services: Services = { database: createMemoryDatabase(options.users), jwt: httpSessions.jwtFor() }
  const runner = createRunner({
    services,
    middleware: [refreshSessionMiddleware],
    wireServices: (_services, wire) => ({ jwt: httpSessions.jwtFor(wire.session) }),
    logger: options.logger,
  })
  return createHTTPHandler({
    runner,
    middleware: [httpSessions.middleware],
    routes: [
      wireHTTP({ method: 'POST', route: '/login', func: login }),
      wireHTTP({ method: 'POST', route: '/logout', func: logout }),
      wireHTTP({ method: 'GET', route: '/profile', func: getProfile }),
      wireHTTP({ method: 'GET', route: '/public', func: getPublicData }),
      wireHTTP({ method: 'PUT', route: '/preferences', func: updatePreferences }),
    ],
  })
}
