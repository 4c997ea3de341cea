import type { AddressInfo } from 'node:net'
import { serve, type ServerType } from '@hono/node-server'
import { silentLogger } from '@pikku/core'
import { createScenarioApp, describeHostScenario, identityProvider, ScenarioClient, type RunningHost, type ScenarioApp } from '@pikku/framework-testkit'
import { Hono } from 'hono'
import { afterEach, describe, expect, it } from 'vitest'
import { pikkuRoutes, pikkuSession, type PikkuSessionEnv } from '../index.js'

type BodyReader = 'json' | 'raw' | 'none'

const running: RunningHost[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((host) => host.close()))
})

async function listen(app: Hono<PikkuSessionEnv>, pikku: string): Promise<RunningHost> {
  const server: ServerType = await new Promise((resolve) => {
    const started = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(started))
  })
  const host: RunningHost = {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    pikku,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
  running.push(host)
  return host
}

/** The scenario app in Hono, behind a middleware that reads the body first (as a validator or logger does). */
async function startHono(reader: BodyReader, scenario: ScenarioApp = createScenarioApp()): Promise<RunningHost> {
  const app = new Hono<PikkuSessionEnv>()
  app.use(pikkuSession({ sessions: scenario.httpSessions, logger: silentLogger }))
  app.use('/api/*', async (c, next) => {
    if (c.req.header('content-type')?.startsWith('application/json') === true) {
      if (reader === 'json') await c.req.json()
      if (reader === 'raw') await c.req.raw.text()
    }
    await next()
  })
  app.use('/api/*', pikkuRoutes(scenario.handler, { basePath: '/api' }))
  app.get('/whoami', async (c) => {
    const session = (await c.var.userSession.get()) as { email?: string } | undefined
    return c.json({ user: session?.email ?? null })
  })
  app.get('/auth/callback', async (c) => {
    const user = identityProvider(c.req.query('code'))
    if (user === undefined) return c.json({ error: 'unknown code' }, 401)
    await c.var.userSession.set(user, { login: true })
    return c.redirect('/whoami', 303)
  })
  app.post('/auth/logout', async (c) => {
    await c.var.userSession.clear()
    return c.json({ loggedOut: true })
  })
  app.get('/api/status', (c) => c.json({ status: 'ok' }))
  app.post('/api/profile', (c) => c.json({ host: 'POST /profile' }))
  app.get('/about', (c) => c.text('about this host'))
  // A handler that returns a Response of its own making, with immutable headers.
  app.get('/auth/callback-raw', async (c) => {
    await c.var.userSession.set(identityProvider('alice')!, { login: true })
    return Response.redirect(new URL('/whoami', c.req.url), 302)
  })
  app.post('/fails-after-login', async (c) => {
    await c.var.userSession.set(identityProvider('alice')!, { login: true })
    throw new Error('the handler failed after logging in')
  })
  return listen(app, '/api')
}

describeHostScenario('Hono 4, after a middleware that read the body with c.req.json()', () => startHono('json'))
describeHostScenario('Hono 4, reading the body itself', () => startHono('none'))

const ALICE = { email: 'alice@example.com', password: 'alice-password' }

describe('@pikku/hono: serving Pikku routes', () => {
  it('a body read from c.req.raw by another middleware is a 500 whose log says why, not "ReadableStream is locked"', async () => {
    const logged: string[] = []
    const scenario = createScenarioApp({ logger: { ...silentLogger, error: (message, meta) => logged.push(`${message} ${String((meta as { error?: unknown })?.error ?? JSON.stringify(meta))}`) } })
    const host = await startHono('raw', scenario)
    const response = await new ScenarioClient(host.base).post('/api/login', { json: ALICE })
    expect(response.status).toBe(500)
    expect(response.body.error.code).toBe('INTERNAL')
    expect(logged.join('\n')).toContain('read from c.req.raw by another middleware')
    expect(logged.join('\n')).not.toContain('ReadableStream is locked')
  })

  it('passes another method on a Pikku path and paths outside basePath to the app’s own routes', async () => {
    const host = await startHono('none')
    const client = new ScenarioClient(host.base)
    expect((await client.post('/api/profile', { json: {} })).body).toEqual({ host: 'POST /profile' })
    expect((await client.get('/profile')).status).toBe(404)
  })

  it('uses a form another middleware parsed with c.req.parseBody()', async () => {
    const scenario = createScenarioApp()
    const app = new Hono()
    app.use('/api/*', async (c, next) => {
      if (c.req.header('content-type')?.startsWith('application/x-www-form-urlencoded') === true) await c.req.parseBody()
      await next()
    })
    app.use('/api/*', pikkuRoutes(scenario.handler, { basePath: '/api' }))
    const host = await listen(app as never, '/api')
    const login = await new ScenarioClient(host.base).post('/api/login', { form: ALICE })
    expect(login.status).toBe(200)
  })

  it('refuses a malformed basePath or handler, saying what to pass', () => {
    const { handler } = createScenarioApp()
    expect(() => pikkuRoutes(handler, { basePath: 'api' })).toThrow(/basePath must be/)
    expect(() => pikkuRoutes(handler, { basePath: '/api/' })).toThrow(/basePath must be/)
    expect(() => pikkuRoutes({} as never)).toThrow(/createHTTPHandler/)
    expect(() => pikkuSession({} as never)).toThrow(/HTTP session strategy/)
  })
})

describe('@pikku/hono: c.var.userSession in the app’s own routes', () => {
  it('puts the cookie on a Response the handler built itself, immutable headers and all', async () => {
    const host = await startHono('none')
    const client = new ScenarioClient(host.base)
    const callback = await client.get('/auth/callback-raw')
    expect(callback.status).toBe(302)
    expect(callback.setCookies).toHaveLength(1)
    expect((await client.get('/whoami')).body).toEqual({ user: 'alice@example.com' })
  })

  it('a handler that fails after a login stores nothing and sets no cookie', async () => {
    const scenario = createScenarioApp()
    const host = await startHono('none', scenario)
    const response = await new ScenarioClient(host.base).post('/fails-after-login', { json: {}, headers: { origin: host.base } })
    expect(response.status).toBe(500)
    expect(response.setCookies).toEqual([])
    expect(await scenario.store.listByUser('u-alice')).toEqual([])
  })

  it('a cross-site login through a host route is refused with Pikku’s 403 and stores nothing (login CSRF)', async () => {
    const scenario = createScenarioApp()
    const host = await startHono('none', scenario)
    const refused = await new ScenarioClient(host.base).get('/auth/callback?code=alice', { headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' } })
    expect(refused.status).toBe(403)
    expect(refused.body.error.code).toBe('FORBIDDEN')
    expect(refused.setCookies).toEqual([])
    expect(await scenario.store.listByUser('u-alice')).toEqual([])
  })
})
