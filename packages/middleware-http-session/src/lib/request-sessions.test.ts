import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createMemoryStore, createSessionManager, PikkuError, silentLogger, type SessionManager } from '@pikku/core'
import { createTestClock, type TestClock } from '@pikku/core/testing'
import { createRequestSessions, readNodeBody, toNodeListener, type HTTPSessionStrategy, type IncomingHTTP, type RequestSession, type SessionHeaders } from '@pikku/http'
import { afterEach, describe, expect, it } from 'vitest'
import { createEncryptedCookieSessions } from './encrypted-cookie-sessions.js'
import { createHTTPSessions } from './http-sessions.js'
import { CookieClient } from './cookie-client.test-support.js'
import { ALICE, buildHandler, HOUR, instrumentStore, MINUTE, SECRET_A, SESSION_COOKIE, type InstrumentedStore, type TestSession } from './test-app.test-support.js'

/**
 * A host app on plain node:http: Pikku routes through the handler, and the host's own routes
 * below using request sessions, the way framework adapters do.
 */
type HostRoute = (session: RequestSession<TestSession>, send: (headers: SessionHeaders) => void) => Promise<unknown>

const hostRoutes: Record<string, HostRoute> = {
  'GET /host/whoami': async (session) => ({ user: (await session.get())?.email ?? null }),
  'POST /host/whoami': async (session) => ({ user: (await session.get())?.email ?? null }),
  // An OAuth callback: the identity provider vouched for the user; log them in.
  'GET /host/oauth/callback': async (session) => {
    await session.set({ userId: 'u-alice', email: 'alice@example.com', role: 'user', preferences: {} }, { login: true })
    return { loggedIn: true }
  },
  'POST /host/logout': async (session) => {
    await session.clear()
    return { loggedOut: true }
  },
  // Two changes in one request, each committed before the next: the second must find the session
  // the first stored (under its new token), not the request's old cookie.
  'POST /host/login-then-theme': async (session, send) => {
    await session.set({ userId: 'u-alice', email: 'alice@example.com', role: 'user', preferences: {} }, { login: true })
    send(await session.commit())
    await session.update({ preferences: { theme: 'dark' } })
    return { ok: true }
  },
  'POST /host/failed-change': async (session) => {
    await session.update({ preferences: { theme: 'lost' } })
    await session.discard()
    return { discarded: true }
  },
}

function incoming(req: IncomingMessage): IncomingHTTP {
  const url = req.url ?? '/'
  const queryStart = url.indexOf('?')
  return {
    method: req.method ?? 'GET',
    path: queryStart === -1 ? url : url.slice(0, queryStart),
    query: queryStart === -1 ? '' : url.slice(queryStart + 1),
    secure: false,
    localAddress: req.socket.localAddress,
    clientAddress: req.socket.remoteAddress,
    header: (name) => {
      const value = req.headers[name]
      return Array.isArray(value) ? value.join(', ') : value
    },
    origin: () => `http://${req.headers.host}`,
    readBody: (limit) => readNodeBody(req, limit),
  }
}

interface HostApp {
  readonly base: string
  readonly clock: TestClock
  readonly store: InstrumentedStore
  readonly sessions: SessionManager
  client(): CookieClient
  close(): Promise<void>
}

const running: HostApp[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((app) => app.close()))
})

async function startHost(strategyFor: (sessions: SessionManager) => HTTPSessionStrategy = (sessions) => createHTTPSessions({ sessions, logger: silentLogger })): Promise<HostApp> {
  const clock = createTestClock()
  const store = instrumentStore(createMemoryStore<TestSession>({ clock: clock.now, sweepInterval: 0 }))
  const sessions = createSessionManager<TestSession>({ store, clock: clock.now, idleTimeout: HOUR, absoluteTimeout: 8 * HOUR, renewalInterval: 5 * MINUTE })
  const strategy = strategyFor(sessions)
  const handler = buildHandler({ strategy, sessions })
  const pikku = toNodeListener(handler)
  const requestSessions = createRequestSessions({ sessions: strategy, clock: clock.now })
  const host = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const request = incoming(req)
    const route = hostRoutes[`${request.method} ${request.path}`]
    if (route === undefined) {
      res.writeHead(404).end('host: not found')
      return
    }
    const session = requestSessions.open<TestSession>(request)
    const send = (headers: SessionHeaders): void => {
      for (const [name, value] of headers) res.appendHeader(name, value)
    }
    try {
      const result = await route(session, send)
      send(await session.commit())
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result))
    } catch (error) {
      const code = error instanceof PikkuError ? error.code : 'INTERNAL'
      res.writeHead(code === 'FORBIDDEN' ? 403 : code === 'SERVICE_UNAVAILABLE' ? 503 : code === 'UNAUTHORIZED' ? 401 : 500, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ error: { code, message: (error as Error).message } }))
    }
  }
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0]!
    if (handler.has(req.method ?? 'GET', path)) pikku(req, res)
    else void host(req, res)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const app: HostApp = {
    base,
    clock,
    store,
    sessions,
    client: () => new CookieClient(base),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
  running.push(app)
  return app
}

describe('request sessions: a host route shares the Pikku routes’ session', () => {
  it('a host route reads the session a Pikku login started', async () => {
    const app = await startHost()
    const client = app.client()
    expect((await client.get('/host/whoami')).body).toEqual({ user: null })
    expect((await client.post('/login', ALICE)).status).toBe(200)
    const whoami = await client.get('/host/whoami')
    expect(whoami.body).toEqual({ user: 'alice@example.com' })
    expect(whoami.headers.get('cache-control')).toBe('no-store')
    expect(whoami.setCookies).toEqual([])
  })

  it('a host route logs a user in without building a cookie: the Pikku routes see the session, stored before the response', async () => {
    const app = await startHost()
    const client = app.client()
    const callback = await client.get('/host/oauth/callback')
    expect(callback.status).toBe(200)
    expect(callback.setCookies).toHaveLength(1)
    expect(callback.setCookies[0]).toMatch(new RegExp(`^${SESSION_COOKIE}=[A-Za-z0-9_-]{43}; Max-Age=\\d+; Path=/; HttpOnly; Secure; SameSite=Lax$`))
    expect(app.store.writes).toEqual(['set'])
    const profile = await client.get('/profile')
    expect(profile.status).toBe(200)
    expect(profile.body.email).toBe('alice@example.com')
  })

  it('a host login replaces the session the browser had (a new token; the old one is dead)', async () => {
    const app = await startHost()
    const client = app.client()
    await client.post('/login', ALICE)
    const before = await client.cookie(SESSION_COOKIE)
    await client.get('/host/oauth/callback')
    const after = await client.cookie(SESSION_COOKIE)
    expect(after).not.toBe(before)
    expect(await app.sessions.loadByToken(before)).toBeUndefined()
    expect((await client.get('/profile')).status).toBe(200)
  })

  it('a host logout ends the session: the cookie is cleared and replaying it gets 401 on a Pikku route', async () => {
    const app = await startHost()
    const client = app.client()
    await client.post('/login', ALICE)
    const token = await client.cookie(SESSION_COOKIE)
    const logout = await client.post('/host/logout', {}, { headers: { origin: app.base } })
    expect(logout.status).toBe(200)
    expect(logout.setCookies[0]).toMatch(new RegExp(`^${SESSION_COOKIE}=; Max-Age=0`))
    expect(await client.cookie(SESSION_COOKIE)).toBeUndefined()
    const replay = await client.get('/profile', { withoutJar: true, headers: { cookie: `${SESSION_COOKIE}=${token}` } })
    expect(replay.status).toBe(401)
  })

  it('a second change after a commit in the same request goes to the session the first stored', async () => {
    const app = await startHost()
    const client = app.client()
    const response = await client.post('/host/login-then-theme', {}, { headers: { origin: app.base } })
    expect(response.status).toBe(200)
    expect(response.setCookies).toHaveLength(1)
    expect(app.store.writes).toEqual(['set', 'update'])
    expect((await client.get('/profile')).body.preferences).toEqual({ theme: 'dark' })
  })

  it('a discarded change is not stored', async () => {
    const app = await startHost()
    const client = app.client()
    await client.post('/login', ALICE)
    app.store.writes.length = 0
    expect((await client.post('/host/failed-change', {}, { headers: { origin: app.base } })).status).toBe(200)
    expect(app.store.writes).toEqual([])
    expect((await client.get('/profile')).body.preferences).toEqual({})
  })

  it('a cross-site POST carrying the session cookie is refused (403) on a host route as on a Pikku route', async () => {
    const app = await startHost()
    const client = app.client()
    await client.post('/login', ALICE)
    const refused = await client.post('/host/whoami', {}, { headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' } })
    expect(refused.status).toBe(403)
    expect(refused.body.error.message).toContain('Cross-site request refused')
  })

  it('a cross-site navigation to a host login stores nothing (login CSRF)', async () => {
    const app = await startHost()
    const client = app.client()
    const refused = await client.get('/host/oauth/callback', { headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' } })
    expect(refused.status).toBe(403)
    expect(refused.setCookies).toEqual([])
    expect(app.store.writes).toEqual([])
  })

  it('a host route that only reads renews a session whose renewal is due (one touch), as a Pikku route does', async () => {
    const app = await startHost()
    const client = app.client()
    await client.post('/login', ALICE)
    app.store.writes.length = 0
    await client.get('/host/whoami')
    expect(app.store.writes).toEqual([])
    app.clock.advance(10 * MINUTE)
    await client.get('/host/whoami')
    expect(app.store.writes).toEqual(['touch'])
  })

  it('a store outage is a 503 for the host route, never "logged out"', async () => {
    const app = await startHost()
    const client = app.client()
    await client.post('/login', ALICE)
    app.store.down = true
    const whoami = await client.get('/host/whoami')
    expect(whoami.status).toBe(503)
    expect(whoami.body.error.code).toBe('SERVICE_UNAVAILABLE')
  })

  it('works with the encrypted-cookie strategy too: a host login sets its cookie and a Pikku route reads it', async () => {
    const app = await startHost(() => createEncryptedCookieSessions({ secrets: [SECRET_A], logger: silentLogger }))
    const client = app.client()
    const callback = await client.get('/host/oauth/callback')
    expect(callback.status).toBe(200)
    expect(callback.setCookies).toHaveLength(1)
    expect((await client.get('/profile')).body.email).toBe('alice@example.com')
    expect((await client.get('/host/whoami')).body).toEqual({ user: 'alice@example.com' })
  })
})

describe('createRequestSessions options', () => {
  it('refuses a strategy without a middleware, saying what to pass', () => {
    expect(() => createRequestSessions({ sessions: {} as HTTPSessionStrategy })).toThrow(/HTTP session strategy with a middleware/)
    expect(() => createRequestSessions(null as never)).toThrow(/needs an options object/)
    expect(() => createRequestSessions({ sessions: { middleware: async () => undefined }, clock: 5 as never })).toThrow(/clock must be a function/)
  })

  it('a strategy whose middleware never calls next() fails the operation with an explanation instead of hanging', async () => {
    const sessions = createRequestSessions({ sessions: { middleware: async () => undefined } })
    const session = sessions.open({ method: 'GET', path: '/', query: '', secure: false, header: () => undefined, origin: () => undefined, readBody: async () => '' })
    await expect(session.get()).rejects.toThrow(/returned without calling next\(\)/)
  })
})
