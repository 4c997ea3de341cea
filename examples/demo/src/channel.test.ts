import { connectTestClient, UpgradeRefusedError, type TestChannelClient, type TestChannelClientOptions } from '@pikku/channel/testing'
import { bearerSubprotocols } from '@pikku/middleware-channel-session'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ADMIN, ALICE, startHarness, type Harness } from './demo-harness.test-support.js'

let harness: Harness
let wsUrl: string
const clients: TestChannelClient[] = []

beforeEach(async () => {
  harness = await startHarness()
  wsUrl = `${harness.demo.url.replace('http://', 'ws://')}/ws`
})

afterEach(async () => {
  for (const client of clients.splice(0)) await client.close().catch(() => undefined)
  await harness.close()
})

async function connect(options?: TestChannelClientOptions): Promise<TestChannelClient> {
  const client = await connectTestClient(wsUrl, options)
  clients.push(client)
  return client
}

/** Logs a browser in over HTTP and returns its session cookie and bearer token. */
async function browserLogin(credentials = ALICE): Promise<{ cookie: string; token: string }> {
  const browser = harness.client()
  const login = await browser.request('POST', '/login', { body: credentials })
  expect(login.status).toBe(200)
  return { cookie: await browser.jar.getCookieString(harness.demo.url), token: login.body.token as string }
}

describe('demo WebSocket channel at /ws', () => {
  it('serves the five functions by name on the HTTP port', async () => {
    const client = await connect()
    expect((await client.call('getPublicData')).result).toEqual(expect.objectContaining({ message: expect.any(String) }))
    expect((await client.call('getProfile')).error?.code).toBe('UNAUTHORIZED')
    const login = await client.call('login', ALICE)
    expect(login.result).toMatchObject({ user: { id: 'user-alice', email: ALICE.email, role: 'user' }, token: expect.any(String) })
    expect((await client.call('getProfile')).result).toMatchObject({ id: 'user-alice', email: ALICE.email })
    expect((await client.call('updatePreferences', { theme: 'dark' })).error).toBeUndefined()
    expect((await client.call('getPublicData')).result).toMatchObject({ email: ALICE.email })
    expect(await client.call('logout')).toMatchObject({ result: { success: true } })
    expect((await client.call('getProfile')).error?.code).toBe('UNAUTHORIZED')
    expect(client.isOpen).toBe(true)
  })

  it('answers bad input and wrong credentials with errors, not a closed socket', async () => {
    const client = await connect()
    expect((await client.call('login', { email: 'not-an-email', password: 'x' })).error?.code).toBe('BAD_REQUEST')
    expect((await client.call('login', { email: ALICE.email, password: 'wrong' })).error?.code).toBe('UNAUTHORIZED')
    expect((await client.call('updatePreferences', { theme: 'purple' })).error?.code).toBe('UNAUTHORIZED')
    client.sendRaw('not json')
    expect((await client.nextOrphanReply()).error?.code).toBe('BAD_REQUEST')
    expect(client.isOpen).toBe(true)
  })

  it('a browser logged in over HTTP is logged in on its socket', async () => {
    const { cookie } = await browserLogin()
    const client = await connect({ headers: { cookie }, origin: harness.demo.url })
    expect((await client.call('getProfile')).result).toMatchObject({ email: ALICE.email })
  })

  it('refuses the cookie from another site with 403 before the upgrade', async () => {
    const { cookie } = await browserLogin()
    const refused = await connect({ headers: { cookie }, origin: 'https://attacker.example' }).catch((error: unknown) => error)
    expect(refused).toBeInstanceOf(UpgradeRefusedError)
    expect((refused as UpgradeRefusedError).status).toBe(403)
  })

  it('accepts the bearer token from login as a subprotocol', async () => {
    const { token } = await browserLogin(ADMIN)
    const client = await connect({ protocols: bearerSubprotocols(token) })
    expect(client.protocol).toBe('pikku.v1')
    expect((await client.call('getProfile')).result).toMatchObject({ email: ADMIN.email, role: 'admin' })
  })

  it('a logout over HTTP reaches the open socket within a second', async () => {
    const browser = harness.client()
    await browser.request('POST', '/login', { body: ALICE })
    const cookie = await browser.jar.getCookieString(harness.demo.url)
    const client = await connect({ headers: { cookie }, origin: harness.demo.url })
    expect((await client.call('getProfile')).result).toMatchObject({ email: ALICE.email })
    const started = performance.now()
    expect((await browser.request('POST', '/logout')).status).toBe(200)
    expect(await client.nextEvent('session', 1_000)).toEqual({ event: 'session', data: { state: 'cleared' } })
    expect(performance.now() - started).toBeLessThan(1_000)
    expect((await client.call('getProfile')).error?.code).toBe('UNAUTHORIZED')
  })

  it('preferences changed on the socket are in the stored session HTTP uses', async () => {
    const browser = harness.client()
    await browser.request('POST', '/login', { body: ALICE })
    const cookie = await browser.jar.getCookieString(harness.demo.url)
    const client = await connect({ headers: { cookie }, origin: harness.demo.url })
    expect((await client.call('updatePreferences', { theme: 'dark', language: 'fr' })).error).toBeUndefined()
    const [stored] = await harness.app.sessions.listUserSessions('user-alice')
    expect(stored?.data.preferences).toEqual({ theme: 'dark', language: 'fr' })
    expect((await browser.request('GET', '/profile')).body).toMatchObject({ preferences: { theme: 'dark', language: 'fr' } })
  })

  it('a session that expires while connected is empty at the next message', async () => {
    const { cookie } = await browserLogin()
    const client = await connect({ headers: { cookie }, origin: harness.demo.url })
    harness.clock.advance(24 * 60 * 60 * 1000 + 1)
    expect((await client.call('getProfile')).error?.code).toBe('UNAUTHORIZED')
    expect((await client.nextEvent('session', 1_000)).data).toEqual({ state: 'cleared' })
  })

  it('closes sockets with 1001 when the server shuts down', async () => {
    const client = await connect()
    const closed = client.closed
    await harness.demo.close()
    expect((await closed).code).toBe(1001)
    // afterEach closes again: make that a no-op.
    harness = { ...harness, close: async () => undefined }
  })
})
