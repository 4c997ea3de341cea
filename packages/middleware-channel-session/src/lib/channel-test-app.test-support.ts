import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createChannelServer, wireChannel, type ChannelServer } from '@pikku/channel'
import { connectTestClient, type TestChannelClient, type TestChannelClientOptions } from '@pikku/channel/testing'
import {
  createMemoryStore,
  createRunner,
  createSessionManager,
  pikkuFunc,
  pikkuSessionlessFunc,
  silentLogger,
  UnauthorizedError,
  type MemoryStore,
  type SessionAuthenticator,
  type SessionManager,
  type SessionListEntry,
  type SessionRecord,
  type SessionStore,
  type UserSession,
} from '@pikku/core'
import { createTestClock, type TestClock } from '@pikku/core/testing'
import { createHTTPHandler, toNodeListener, wireHTTP } from '@pikku/http'
import { createHTTPSessions, type HTTPSessions, type JwtService } from '@pikku/middleware-http-session'
import { createChannelSessions, type ChannelSessions, type ChannelSessionsOptions } from './channel-sessions.js'
import type { ChannelSessionTimers } from './session-timers.js'

export const SECRET = 'channel-session-test-secret-0123456789abcdef'
export const FOREIGN_ORIGIN = 'https://evil.example'
export const PARTNER_ORIGIN = 'https://app.example.com'

interface TestSession {
  userId: string
  name?: string
  theme?: string
}

const jwtOf = (services: object): JwtService => (services as { jwt: JwtService }).jwt

// Small functions standing in for an app: password checks are beside the point here.
const login = pikkuSessionlessFunc<{ userId: string; fail?: boolean }, { token: string }>({
  func: async (services, data, { session }) => {
    if (data.userId === 'nobody') throw new UnauthorizedError('Invalid credentials')
    await session.set({ userId: data.userId, name: `${data.userId} original` } as TestSession)
    if (data.fail === true) throw new Error('failed after set()')
    return { token: await jwtOf(services).sign() }
  },
})
const logout = pikkuFunc<void, { success: boolean }>({
  func: async (_services, _data, { session }) => {
    await session.clear()
    return { success: true }
  },
})
const whoAmI = pikkuFunc<void, TestSession>({ func: async (_services, _data, { session }) => (await session.get()) as TestSession })
const maybeMe = pikkuSessionlessFunc<void, string | null>({ func: async (_services, _data, { session }) => (await session.get())?.userId ?? null })
const rename = pikkuFunc<{ name: string; fail?: boolean }, void>({
  func: async (_services, data, { session }) => {
    await session.update({ name: data.name } as Partial<TestSession>)
    if (data.fail === true) throw new Error('failed after update()')
  },
})
const setTheme = pikkuFunc<{ theme: string }, void>({
  func: async (_services, data, { session }) => {
    const current = (await session.get()) as TestSession
    await session.set({ ...current, theme: data.theme } as TestSession)
  },
})
const logoutEverywhere = pikkuFunc<void, number>({
  func: async (services, _data, { session }) => {
    const { userId } = await session.get()
    return (services as { sessions: SessionManager }).sessions.revokeUser(userId)
  },
})

const listSessions = pikkuFunc<void, SessionListEntry[]>({ func: async (_services, _data, { session }) => session.list() })
const revokeSession = pikkuFunc<{ handle: string }, { success: true }>({
  func: async (_services, data, { session }) => {
    await session.revoke(data.handle)
    return { success: true }
  },
})

export const functions = { login, logout, whoAmI, maybeMe, rename, setTheme, logoutEverywhere, listSessions, revokeSession }

/** Timers driven by the test clock: `advance` moves the clock and fires what came due. */
export interface ManualTimers extends ChannelSessionTimers {
  advance(ms: number): void
  readonly armed: number
}

export function createManualTimers(clock: TestClock): ManualTimers {
  const due = new Set<{ at: number; callback: () => void }>()
  return {
    set(callback, delayMs) {
      const timer = { at: clock.now() + delayMs, callback }
      due.add(timer)
      return timer
    },
    clear(handle) {
      due.delete(handle as { at: number; callback: () => void })
    },
    advance(ms) {
      clock.advance(ms)
      for (const timer of [...due].sort((a, b) => a.at - b.at)) {
        if (timer.at <= clock.now() && due.delete(timer)) timer.callback()
      }
    },
    get armed() {
      return due.size
    },
  }
}

export interface TestApp {
  readonly clock: TestClock
  readonly timers: ManualTimers
  readonly store: SessionStore
  readonly sessions: SessionManager
  readonly httpSessions: HTTPSessions
  readonly channelSessions: ChannelSessions
  readonly channels: ChannelServer
  readonly server: Server
  /** http://127.0.0.1:port */
  readonly origin: string
  /** ws://127.0.0.1:port/ws */
  readonly wsUrl: string
  /** POSTs or GETs JSON over HTTP; returns status, body and the session cookie set, if any. */
  http(method: 'GET' | 'POST', path: string, options?: { body?: unknown; cookie?: string; bearer?: string }): Promise<{ status: number; body: any; cookie: string | undefined }>
  /** Logs in over HTTP: the `name=value` session cookie and the bearer token. */
  httpLogin(userId: string): Promise<{ cookie: string; token: string }>
  connect(options?: TestChannelClientOptions): Promise<TestChannelClient>
  close(): Promise<void>
}

/** The authenticator of the test app's HTTP strategy: the cookie and bearer tokens HTTP accepts. */
export function httpAuthenticator(httpSessions: HTTPSessions): SessionAuthenticator<UserSession> {
  return httpSessions.authenticator
}

/**
 * `authenticator`, running `onStored` on each stored session it finds before it answers: to make
 * something happen between the credential check at an upgrade and the open connection.
 */
export function afterAuthenticating(
  authenticator: SessionAuthenticator<UserSession>,
  onStored: (record: SessionRecord<UserSession>) => Promise<void> | void,
): SessionAuthenticator<UserSession> {
  return {
    cookieNames: authenticator.cookieNames,
    async authenticate(input) {
      const found = await authenticator.authenticate(input)
      if (found.outcome === 'stored') await onStored(found.record)
      return found
    },
  }
}

export interface TestAppOptions {
  idleTimeout?: number
  store?: SessionStore | ((clock: TestClock) => SessionStore)
  /** Replaces the HTTP strategy's authenticator at the upgrade. */
  authenticator?: (httpSessions: HTTPSessions) => SessionAuthenticator<UserSession>
  /** Passes the HTTP strategy as the deprecated `credentials` instead of an authenticator. */
  legacyCredentials?: boolean
  channelSessions?: Partial<ChannelSessionsOptions>
  /** The channel server's `trustProxy`. @default false */
  trustProxy?: boolean
}

export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const clock = createTestClock(Date.now())
  const timers = createManualTimers(clock)
  const store =
    typeof options.store === 'function'
      ? options.store(clock)
      : (options.store ?? (createMemoryStore({ clock: clock.now, sweepInterval: 0 }) as MemoryStore))
  const sessions = createSessionManager({ store, clock: clock.now, idleTimeout: options.idleTimeout ?? 60_000, logger: silentLogger })
  const httpSessions = createHTTPSessions({ sessions, cookie: { secure: false }, jwt: { secrets: [SECRET] }, logger: silentLogger })
  const runner = createRunner({
    services: { sessions },
    logger: silentLogger,
    wireServices: (_services, wire) => ({ jwt: httpSessions.jwtFor(wire.session) }) as object,
  })
  const channelSessions = createChannelSessions({
    sessions,
    ...(options.legacyCredentials === true ? { credentials: httpSessions } : { authenticator: (options.authenticator ?? httpAuthenticator)(httpSessions) }),
    allowedOrigins: [PARTNER_ORIGIN],
    timers,
    ...options.channelSessions,
  })
  const channels = createChannelServer({
    runner,
    channels: [wireChannel({ route: '/ws', functions, session: channelSessions })],
    heartbeatInterval: 0,
    trustProxy: options.trustProxy ?? false,
  })
  const handler = createHTTPHandler({
    runner,
    middleware: [httpSessions.middleware],
    routes: [
      wireHTTP({ method: 'POST', route: '/login', func: login }),
      wireHTTP({ method: 'POST', route: '/logout', func: logout }),
      wireHTTP({ method: 'GET', route: '/me', func: whoAmI }),
      wireHTTP({ method: 'POST', route: '/rename', func: rename }),
      wireHTTP({ method: 'POST', route: '/logout-everywhere', func: logoutEverywhere }),
      wireHTTP({ method: 'GET', route: '/sessions', func: listSessions }),
      wireHTTP({ method: 'POST', route: '/sessions/revoke', func: revokeSession }),
    ],
  })
  const server = createServer(toNodeListener(handler))
  channels.attach(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  const origin = `http://127.0.0.1:${port}`
  const clients: TestChannelClient[] = []

  const http: TestApp['http'] = async (method, path, requestOptions = {}) => {
    const headers: Record<string, string> = { origin }
    if (requestOptions.cookie !== undefined) headers['cookie'] = requestOptions.cookie
    if (requestOptions.bearer !== undefined) headers['authorization'] = `Bearer ${requestOptions.bearer}`
    if (requestOptions.body !== undefined) headers['content-type'] = 'application/json'
    const response = await fetch(`${origin}${path}`, {
      method,
      headers,
      body: requestOptions.body === undefined ? undefined : JSON.stringify(requestOptions.body),
    })
    const setCookie = response.headers.getSetCookie().find((line) => line.startsWith(`${httpSessions.cookieName}=`))
    const text = await response.text()
    return { status: response.status, body: text === '' ? undefined : JSON.parse(text), cookie: setCookie?.split(';', 1)[0] }
  }

  return {
    clock,
    timers,
    store,
    sessions,
    httpSessions,
    channelSessions,
    channels,
    server,
    origin,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    http,
    async httpLogin(userId) {
      const response = await http('POST', '/login', { body: { userId } })
      if (response.status !== 200 || response.cookie === undefined) throw new Error(`HTTP login failed: ${response.status} ${JSON.stringify(response.body)}`)
      return { cookie: response.cookie, token: (response.body as { token: string }).token }
    },
    async connect(connectOptions) {
      const client = await connectTestClient(`ws://127.0.0.1:${port}/ws`, connectOptions)
      clients.push(client)
      return client
    },
    async close() {
      await Promise.all(clients.map((client) => client.close().catch(() => undefined)))
      await channels.close({ timeout: 500 })
      channelSessions.close()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await store.close?.()
    },
  }
}

/** Polls until `condition` holds (for server-side effects a client cannot await). */
export async function waitFor(condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}
