import {
  createConsoleLogger,
  createMemoryStore,
  createRunner,
  createSessionManager,
  type Clock,
  type Logger,
  type Runner,
  type SessionManager,
  type SessionStore,
} from '@pikku/core'
import { createMemoryThrottleBackend } from '@pikku/login-throttle'
import { createHTTPSessions, type HTTPSessions } from '@pikku/middleware-http-session'
import type { SessionAudit } from '@pikku/session-audit'
import { DemoDatabase } from './database.js'
import type { DemoPreferences } from './preferences.js'
import { functions as baseFunctions } from './functions.js'
import { createDemoLoginThrottle, type DemoThrottleBackend } from './login-throttle.js'
import type { Services, UserSession } from './types.js'

export interface DemoAppOptions {
  /** Where sessions live. @default an in-memory store */
  store?: SessionStore<UserSession>
  /** Keys that sign bearer tokens; the first signs, all verify. Each at least 32 bytes. */
  secrets: readonly string[]
  /**
   * Send cookies with the Secure attribute. Only plain-http development on localhost turns it off.
   * @default true
   */
  secureCookies?: boolean
  /** Origins allowed to send cookie-authenticated unsafe requests and WebSocket upgrades. @default [] (same origin only) */
  allowedOrigins?: readonly string[]
  /** @default Date.now */
  clock?: Clock
  /** @default a console logger */
  logger?: Logger
  /** Session idle timeout in ms. @default core's (24 hours) */
  idleTimeout?: number
  /** Session absolute timeout in ms. @default core's (7 days) */
  absoluteTimeout?: number
  /**
   * Where users' preferences are kept (`openDemoPreferences`: the session store's backend); closed
   * with the app.
   * @default in memory
   */
  preferences?: DemoPreferences
  /**
   * Where failed logins are counted (`openDemoThrottleBackend`); closed with the app.
   * @default counters in memory, on `clock`
   */
  throttle?: DemoThrottleBackend
  /** Where session events are recorded (`openDemoAudit`); closed (flushed) with the app. @default none */
  audit?: SessionAudit
}

/** The demo's functions as every protocol serves them: `login` is throttled. */
export type DemoFunctions = typeof baseFunctions

/** Everything the demo's protocols share: one store, one session manager, one runner. */
export interface DemoApp {
  readonly runner: Runner
  readonly sessions: SessionManager<UserSession>
  readonly httpSessions: HTTPSessions
  readonly store: SessionStore<UserSession>
  readonly services: Services
  /** The functions to wire to every protocol (`login` throttled); never wire `./functions.js` directly. */
  readonly functions: DemoFunctions
  readonly logger: Logger
  readonly allowedOrigins: readonly string[]
  /** The app's secrets (JWT keys; also the OAuth server's cookie and consent keys). */
  readonly secrets: readonly string[]
  /** The audit trail, when the app keeps one (`GET /admin/audit` serves it). */
  readonly audit: SessionAudit | undefined
  /** Closes the store (flushing what it holds), the login counters and the preferences. */
  close(): Promise<void>
}

export function createDemoApp(options: DemoAppOptions): DemoApp {
  const logger = options.logger ?? createConsoleLogger()
  const store = options.store ?? createMemoryStore<UserSession>({ clock: options.clock })
  const sessions = createSessionManager<UserSession>({
    store,
    clock: options.clock,
    logger,
    idleTimeout: options.idleTimeout,
    absoluteTimeout: options.absoluteTimeout,
    onEvent: options.audit?.onEvent,
  })
  const allowedOrigins = options.allowedOrigins ?? []
  const httpSessions = createHTTPSessions({
    sessions,
    cookie: { secure: options.secureCookies ?? true },
    jwt: { secrets: options.secrets, issuer: 'pikku-demo', audience: 'pikku-demo' },
    csrf: { allowedOrigins },
    logger,
  })
  const services = {
    database: new DemoDatabase({ preferences: options.preferences }),
    logger,
    // Replaced per call by wireServices below with a jwt bound to the call's session.
    jwt: httpSessions.jwtFor(),
    sessions,
  } satisfies Services
  const throttle = options.throttle ?? { backend: createMemoryThrottleBackend({ clock: options.clock }), close: async () => {} }
  // One map for every protocol, so no protocol is handed the unthrottled login.
  const functions: DemoFunctions = { ...baseFunctions, login: createDemoLoginThrottle(throttle.backend, logger).protect(baseFunctions.login) }
  const runner = createRunner({
    services,
    logger,
    wireServices: (_services, wire) => ({ jwt: httpSessions.jwtFor(wire.session) }),
  })
  return {
    runner,
    sessions,
    httpSessions,
    store,
    services,
    functions,
    logger,
    allowedOrigins,
    secrets: options.secrets,
    audit: options.audit,
    async close() {
      await store.close?.()
      await throttle.close()
      await services.database.close()
      await options.audit?.close()
    },
  }
}
