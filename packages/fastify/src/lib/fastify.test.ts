import { silentLogger, type SessionStore } from '@pikku/core'
import { createScenarioApp, describeHostScenario, identityProvider, ScenarioClient, storeWithOutage, type RunningHost } from '@pikku/framework-testkit'
import Fastify, { type FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { pikkuRoutes, pikkuSession } from '../index.js'

/** The scenario's host routes, as a Fastify app writes them with `request.userSession`. */
function hostRoutes(app: FastifyInstance, prefix: string): void {
  app.get('/whoami', async (request) => {
    const session = (await request.userSession.get()) as { email?: string } | undefined
    return { user: session?.email ?? null }
  })
  app.get<{ Querystring: { code?: string } }>('/auth/callback', async (request, reply) => {
    const user = identityProvider(request.query.code)
    if (user === undefined) return reply.code(401).send({ error: 'unknown code' })
    await request.userSession.set(user, { login: true })
    return reply.redirect('/whoami', 303)
  })
  app.post('/auth/logout', async (request) => {
    await request.userSession.clear()
    return { loggedOut: true }
  })
  app.get(`${prefix}/status`, async () => ({ status: 'ok' }))
  // The same path as a Pikku route with another method, and a JSON body Fastify's own parser reads.
  app.post(`${prefix}/profile`, async (request) => ({ host: 'POST /profile', body: request.body }))
  app.get('/about', async () => 'about this host')
  app.post('/fails-after-login', async (request) => {
    await request.userSession.set(identityProvider('alice')!, { login: true })
    throw new Error('the route failed after logging in')
  })
}

const running: RunningHost[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((host) => host.close()))
})

async function startFastify(options: { prefix?: string; store?: SessionStore; bodyLimit?: number } = {}): Promise<RunningHost> {
  const prefix = options.prefix ?? '/api'
  const scenario = createScenarioApp({ ...(options.store === undefined ? {} : { store: options.store }), ...(options.bodyLimit === undefined ? {} : { bodyLimit: options.bodyLimit }) })
  const app = Fastify()
  await app.register(pikkuSession, { sessions: scenario.httpSessions, logger: silentLogger })
  await app.register(pikkuRoutes, { handler: scenario.handler, prefix })
  hostRoutes(app, prefix)
  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  const host: RunningHost = { base: address, pikku: prefix, close: () => app.close() }
  running.push(host)
  return host
}

describeHostScenario('Fastify 5, Pikku routes under /api', () => startFastify())
describeHostScenario('Fastify 5, Pikku routes at the root', () => startFastify({ prefix: '' }))

const ALICE = { email: 'alice@example.com', password: 'alice-password' }

describe('@pikku/fastify: the routes plugin', () => {
  it('reads an application/*+json body that Fastify’s own parsers would refuse with 415', async () => {
    const host = await startFastify()
    const client = new ScenarioClient(host.base)
    const login = await client.post('/api/login', { text: JSON.stringify(ALICE), headers: { 'content-type': 'application/vnd.example+json', origin: host.base } })
    expect(login.status).toBe(200)
  })

  it('keeps its parsers to itself: the app’s own routes still get Fastify’s parsed JSON', async () => {
    const host = await startFastify()
    const client = new ScenarioClient(host.base)
    const response = await client.post('/api/profile', { json: { hello: 'host' } })
    expect(response.body).toEqual({ host: 'POST /profile', body: { hello: 'host' } })
  })

  it('answers a body over the handler’s limit with Pikku’s 413, and malformed JSON with its 400', async () => {
    const host = await startFastify({ bodyLimit: 2048 })
    const client = new ScenarioClient(host.base)
    const big = await client.post('/api/login', { text: JSON.stringify({ email: 'x'.repeat(4096) }), headers: { 'content-type': 'application/json' } })
    expect(big.status).toBe(413)
    expect(big.body.error.code).toBe('PAYLOAD_TOO_LARGE')
    const malformed = await client.post('/api/login', { text: '{"email":', headers: { 'content-type': 'application/json' } })
    expect(malformed.status).toBe(400)
    expect(malformed.body.error.code).toBe('BAD_REQUEST')
  })

  it('registers no HEAD route and leaves unknown paths to Fastify’s 404', async () => {
    const host = await startFastify()
    expect((await fetch(`${host.base}/api/profile`, { method: 'HEAD' })).status).toBe(404)
    const unknown = await new ScenarioClient(host.base).get('/api/nothing')
    expect(unknown.status).toBe(404)
    expect(unknown.body.message).toBe('Route GET:/api/nothing not found')
  })

  it('refuses to register without a handler, saying what to pass', async () => {
    const app = Fastify()
    await expect(app.register(pikkuRoutes, {} as never).ready()).rejects.toThrow(/needs \{ handler \}/)
  })
})

describe('@pikku/fastify: request.userSession in the app’s own routes', () => {
  it('a route that fails after a login stores nothing and sets no cookie', async () => {
    const scenario = createScenarioApp()
    const app = Fastify()
    await app.register(pikkuSession, { sessions: scenario.httpSessions, logger: silentLogger })
    await app.register(pikkuRoutes, { handler: scenario.handler, prefix: '/api' })
    hostRoutes(app, '/api')
    const base = await app.listen({ port: 0, host: '127.0.0.1' })
    running.push({ base, pikku: '/api', close: () => app.close() })
    const response = await new ScenarioClient(base).post('/fails-after-login', { json: {}, headers: { origin: base } })
    expect(response.status).toBe(500)
    expect(response.setCookies).toEqual([])
    expect(await scenario.store.listByUser('u-alice')).toEqual([])
  })

  it('a cross-site login through a host route is refused with Pikku’s 403 and stores nothing (login CSRF)', async () => {
    const host = await startFastify()
    const client = new ScenarioClient(host.base)
    const refused = await client.get('/auth/callback?code=alice', { headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' } })
    expect(refused.status).toBe(403)
    expect(refused.body.error.code).toBe('FORBIDDEN')
    expect(refused.headers.get('location')).toBeNull()
    expect(refused.setCookies).toEqual([])
  })

  it('a store outage reaches Fastify’s error handling as a 503, never "logged out"', async () => {
    const outage = storeWithOutage(createScenarioApp().store)
    const host = await startFastify({ store: outage.store })
    const client = new ScenarioClient(host.base)
    await client.post('/api/login', { json: ALICE, headers: { origin: host.base } })
    outage.down = true
    const whoami = await client.get('/whoami')
    expect(whoami.status).toBe(503)
    expect(whoami.body.code).toBe('SERVICE_UNAVAILABLE')
  })
})
