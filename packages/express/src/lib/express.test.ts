import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { silentLogger, type SessionStore } from '@pikku/core'
import { createScenarioApp, describeHostScenario, identityProvider, ScenarioClient, storeWithOutage, type RunningHost, type ScenarioApp } from '@pikku/framework-testkit'
import express, { type Express } from 'express'
import { afterEach, describe, expect, it } from 'vitest'
import { pikkuErrorHandler, pikkuRoutes, pikkuSession } from '../index.js'

type Parsers = 'before' | 'after' | 'none' | 'text'

/** The scenario's host routes, as an Express app writes them with `req.userSession`. */
function hostRoutes(app: Express, prefix: string): void {
  app.get('/whoami', async (req, res) => {
    const session = (await req.userSession.get()) as { email?: string } | undefined
    res.json({ user: session?.email ?? null })
  })
  app.get('/auth/callback', async (req, res) => {
    const user = identityProvider(req.query['code'])
    if (user === undefined) {
      res.status(401).json({ error: 'unknown code' })
      return
    }
    await req.userSession.set(user, { login: true })
    res.redirect(303, '/whoami')
  })
  app.post('/auth/logout', async (req, res) => {
    await req.userSession.clear()
    res.json({ loggedOut: true })
  })
  app.get(`${prefix}/status`, (_req, res) => {
    res.json({ status: 'ok' })
  })
  // The same path as a Pikku route, another method: the app's own.
  app.post(`${prefix}/profile`, (_req, res) => {
    res.json({ host: 'POST /profile' })
  })
  app.get('/about', (_req, res) => {
    res.type('text').send('about this host')
  })
  app.get('/late-change', async (req, res) => {
    res.send('sent')
    await req.userSession.clear().catch((error: Error) => {
      lateChangeError = error.message
    })
  })
}

let lateChangeError: string | undefined

interface ExpressHost extends RunningHost {
  readonly scenario: ScenarioApp
}

const running: ExpressHost[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((host) => host.close()))
})

async function listen(app: Express, scenario: ScenarioApp, pikku: string): Promise<ExpressHost> {
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening))
  })
  const host: ExpressHost = {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    pikku,
    scenario,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
  running.push(host)
  return host
}

/** The scenario app in Express: body parsers before or after the Pikku routes, or none. */
async function startExpress(parsers: Parsers, options: { prefix?: string; store?: SessionStore } = {}): Promise<ExpressHost> {
  const prefix = options.prefix ?? '/api'
  const scenario = createScenarioApp(options.store === undefined ? {} : { store: options.store })
  const app = express()
  if (parsers === 'before') app.use(express.json(), express.urlencoded())
  if (parsers === 'text') app.use(express.text({ type: '*/*' }))
  app.use(pikkuSession({ sessions: scenario.httpSessions }))
  app.use(prefix === '' ? '/' : prefix, pikkuRoutes(scenario.handler))
  if (parsers === 'after') app.use(express.json(), express.urlencoded())
  hostRoutes(app, prefix)
  app.use(pikkuErrorHandler({ logger: silentLogger }))
  return listen(app, scenario, prefix)
}

describeHostScenario('Express 5, express.json() before the Pikku routes', () => startExpress('before'))
describeHostScenario('Express 5, express.json() after the Pikku routes', () => startExpress('after'))
describeHostScenario('Express 5, no body parser, Pikku routes at the root', () => startExpress('none', { prefix: '' }))

const ORIGIN_OF = (host: RunningHost): Record<string, string> => ({ origin: host.base })
const ALICE = { email: 'alice@example.com', password: 'alice-password' }

describe('@pikku/express: serving Pikku routes', () => {
  it('uses a form body express.urlencoded() parsed as the data', async () => {
    const host = await startExpress('before')
    const client = new ScenarioClient(host.base)
    await client.post('/api/login', { form: ALICE, headers: ORIGIN_OF(host) })
    const update = await client.put('/api/preferences', { form: { theme: 'light' }, headers: ORIGIN_OF(host) })
    expect(update.status).toBe(200)
    expect(update.body.preferences).toEqual({ theme: 'light' })
  })

  it('parses a body express.text() left as text by its own rules: JSON is read, anything else is a 400 that says why', async () => {
    const host = await startExpress('text')
    const client = new ScenarioClient(host.base)
    const login = await client.post('/api/login', { text: JSON.stringify(ALICE), headers: { ...ORIGIN_OF(host), 'content-type': 'application/json' } })
    expect(login.status).toBe(200)
    const refused = await client.put('/api/preferences', { text: 'theme=dark', headers: { ...ORIGIN_OF(host), 'content-type': 'text/plain' } })
    expect(refused.status).toBe(400)
    expect(refused.body.error.message).toContain('must be JSON')
  })

  it('passes another method on a Pikku path, and unknown paths, to the app’s own routes and 404', async () => {
    const host = await startExpress('before')
    const client = new ScenarioClient(host.base)
    expect((await client.post('/api/profile', { json: {} })).body).toEqual({ host: 'POST /profile' })
    const unknown = await client.get('/api/nothing-here')
    expect(unknown.status).toBe(404)
    // Express's own 404 page, not a Pikku error body: the request was never Pikku's.
    expect(unknown.body).toContain('Cannot GET /api/nothing-here')
  })

  it('matches routes below the mount path only', async () => {
    const host = await startExpress('before')
    const client = new ScenarioClient(host.base)
    expect((await client.post('/api/login', { json: ALICE, headers: ORIGIN_OF(host) })).status).toBe(200)
    expect((await client.get('/profile')).status).toBe(404)
    expect((await client.get('/api/profile')).status).toBe(200)
  })

  it('answers a malformed JSON body with Pikku’s 400 when Pikku reads it itself', async () => {
    const host = await startExpress('after')
    const client = new ScenarioClient(host.base)
    const response = await client.post('/api/login', { text: '{"email":', headers: { 'content-type': 'application/json' } })
    expect(response.status).toBe(400)
    expect(response.body.error.code).toBe('BAD_REQUEST')
  })
})

describe('@pikku/express: req.userSession in the app’s own routes', () => {
  it('a store outage is a 503 with an error id (pikkuErrorHandler), never "logged out"', async () => {
    const outage = storeWithOutage(createScenarioApp().store)
    const host = await startExpress('before', { store: outage.store })
    const client = new ScenarioClient(host.base)
    await client.post('/api/login', { json: ALICE, headers: ORIGIN_OF(host) })
    outage.down = true
    const whoami = await client.get('/whoami')
    expect(whoami.status).toBe(503)
    expect(whoami.body.error.code).toBe('SERVICE_UNAVAILABLE')
    expect(whoami.body.error.id).toMatch(/.+/)
  })

  it('a cross-site POST carrying the session cookie is refused with 403 on a host route too', async () => {
    const host = await startExpress('before')
    const client = new ScenarioClient(host.base)
    await client.post('/api/login', { json: ALICE, headers: ORIGIN_OF(host) })
    const refused = await client.post('/auth/logout', { json: {}, headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' } })
    expect(refused.status).toBe(403)
    expect(refused.body.error.code).toBe('FORBIDDEN')
    expect((await client.get('/whoami')).body).toEqual({ user: 'alice@example.com' })
  })

  it('a change made after the response was sent is refused with an explanation, not lost silently', async () => {
    const host = await startExpress('before')
    const client = new ScenarioClient(host.base)
    lateChangeError = undefined
    await client.get('/late-change')
    await expect.poll(() => lateChangeError).toMatch(/after the response was sent/)
  })
})

describe('@pikku/express: options', () => {
  it('refuse what is not a handler or a strategy, saying what to pass', () => {
    expect(() => pikkuRoutes({} as never)).toThrow(/createHTTPHandler/)
    expect(() => pikkuSession({} as never)).toThrow(/HTTP session strategy/)
    expect(() => pikkuSession(null as never)).toThrow(/needs an options object/)
    expect(() => pikkuErrorHandler(null as never)).toThrow(/optional options object/)
  })
})
