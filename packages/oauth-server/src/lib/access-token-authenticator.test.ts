import {
  createMemoryStore,
  firstAuthenticated,
  ServiceUnavailableError,
  STORE_UNAVAILABLE_MESSAGE,
  type SessionStore,
} from '@pikku/core'
import { afterEach, describe, expect, it } from 'vitest'
import { authorizationUrl, registerClient, startTestApp, TestBrowser, tokenRequest, type TestApp, type TestUser } from './test-app.test-support.js'

/** The memory store until `fail()`; then every read and write fails with a driver message that quotes a password. */
function outageStore(): { store: SessionStore<TestUser>; fail(): void } {
  const inner = createMemoryStore<TestUser>()
  let down = false
  const failing =
    <A extends unknown[], R>(run: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> =>
      down ? Promise.reject(new Error('connect ECONNREFUSED redis://app:hunter2@10.0.0.1')) : run(...args)
  const store: SessionStore<TestUser> = {
    get: failing((id: string) => inner.get(id)),
    set: failing((record: Parameters<typeof inner.set>[0]) => inner.set(record)),
    update: failing((id: string, version: number, change: Parameters<typeof inner.update>[2]) => inner.update(id, version, change)),
    touch: failing((id: string, lastActiveAt: number, expiresAt: number) => inner.touch(id, lastActiveAt, expiresAt)),
    delete: failing((id: string, reason?: Parameters<typeof inner.delete>[1]) => inner.delete(id, reason)),
    listByUser: failing((userId: string) => inner.listByUser(userId)),
    deleteByUser: failing((userId: string, options?: { except?: string }) => inner.deleteByUser(userId, options)),
    subscribe: (listener) => inner.subscribe(listener),
  }
  return { store, fail: () => (down = true) }
}

let app: TestApp | undefined
afterEach(async () => {
  await app?.close()
  app = undefined
})

describe('the access-token authenticator', () => {
  it('leaves bearer tokens of another shape to the next authenticator, and refuses unknown tokens of its own', async () => {
    app = await startTestApp()
    const { authenticator } = app.oauth
    expect(await authenticator.authenticate({ header: () => undefined })).toEqual({ outcome: 'none' })
    expect(await authenticator.authenticate({ token: 'eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl' })).toEqual({ outcome: 'none' })
    expect(await authenticator.authenticate({ header: (name) => (name === 'authorization' ? 'Basic dXNlcjpwYXNz' : undefined) })).toEqual({ outcome: 'none' })
    expect(await authenticator.authenticate({ token: 'A'.repeat(44) })).toMatchObject({ outcome: 'refused', credential: 'oauth', reason: 'unknown-token' })
    // Composed with another credential kind, a JWT still reaches its own authenticator.
    const jwt = { authenticate: async () => ({ outcome: 'transient' as const, credential: 'bearer', session: { userId: 'u-bob', email: 'bob@example.com' } }) }
    expect((await firstAuthenticated<TestUser>(authenticator, jwt).authenticate({ token: 'a.b.c' })).outcome).toBe('transient')
  })

  it('answers a store outage with the fixed unavailable message, never the driver’s', async () => {
    const { store, fail } = outageStore()
    app = await startTestApp({}, store)
    fail()
    const refused = await app.oauth.authenticator.authenticate({ token: 'A'.repeat(44) }).catch((error: unknown) => error)
    expect(refused).toBeInstanceOf(ServiceUnavailableError)
    expect((refused as Error).message).toBe(STORE_UNAVAILABLE_MESSAGE)
  })
})

describe('a store outage at the authorization server', () => {
  it('answers the token endpoint and the consent page with 503 and the fixed message', async () => {
    const { store, fail } = outageStore()
    app = await startTestApp({}, store)
    const client = await registerClient(app)
    const browser = new TestBrowser(app.url)
    browser.signIn(await app.login())
    const authorize = await browser.request(authorizationUrl(app, client))
    fail()
    const token = await tokenRequest(app, { grant_type: 'refresh_token', refresh_token: 'A'.repeat(44), client_id: client.clientId, resource: app.mcpUrl })
    expect(token.status).toBe(503)
    expect(token.body).toEqual({ error: 'temporarily_unavailable', error_description: STORE_UNAVAILABLE_MESSAGE })
    const page = await browser.request(new URL(authorize.headers.get('location') as string, app.url).href)
    expect(page.status).toBe(503)
    const html = await page.text()
    expect(html).toContain('temporarily_unavailable')
    expect(html).not.toContain('hunter2')
  })
})
