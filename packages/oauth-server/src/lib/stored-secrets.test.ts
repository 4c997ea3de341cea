import { createMemoryStore, type SessionStore } from '@pikku/core'
import { hashSessionToken } from '@pikku/core/protocol'
import { afterEach, expect, it } from 'vitest'
import { authorizationUrl, exchangeCode, registerClient, startTestApp, TestBrowser, tokenRequest, type TestApp, type TestUser } from './test-app.test-support.js'

let app: TestApp | undefined
afterEach(async () => {
  await app?.close()
  app = undefined
})

/** The memory store, with a copy of everything ever written to it, as a leaked backup would hold. */
function recordingStore(): { store: SessionStore<TestUser>; written: string[] } {
  const inner = createMemoryStore<TestUser>()
  const written: string[] = []
  const store: SessionStore<TestUser> = {
    ...inner,
    get: (id) => inner.get(id),
    set: (record) => {
      written.push(JSON.stringify(record))
      return inner.set(record)
    },
    update: (id, version, change) => {
      written.push(id, JSON.stringify(change))
      return inner.update(id, version, change)
    },
    touch: (id, lastActiveAt, expiresAt) => inner.touch(id, lastActiveAt, expiresAt),
    delete: (id, reason) => inner.delete(id, reason),
    listByUser: (userId) => inner.listByUser(userId),
    deleteByUser: (userId, options) => inner.deleteByUser(userId, options),
    subscribe: (listener) => inner.subscribe(listener),
  }
  return { store, written }
}

it('the store never holds an authorization code, access token or refresh token a client could use', async () => {
  const { store, written } = recordingStore()
  app = await startTestApp({}, store)
  const client = await registerClient(app)
  const browser = new TestBrowser(app.url)
  browser.signIn(await app.login())
  const redirect = await browser.consent(authorizationUrl(app, client))
  const code = redirect.searchParams.get('code') as string
  const tokens = await exchangeCode(app, client, code)
  const refreshed = await tokenRequest(app, { grant_type: 'refresh_token', refresh_token: tokens.body['refresh_token'] as string, client_id: client.clientId, resource: app.mcpUrl })
  expect(refreshed.status).toBe(200)
  const everything = written.join('\n')
  for (const secret of [code, tokens.body['access_token'], tokens.body['refresh_token'], refreshed.body['access_token'], refreshed.body['refresh_token']]) {
    expect(typeof secret).toBe('string')
    expect(everything).not.toContain(secret as string)
  }
  // OAuth records are kept apart from user sessions: alice's list holds her two sessions only.
  expect((await app.sessions.listUserSessions('u-alice')).every((record) => !record.id.includes(':'))).toBe(true)
})

it('a dynamically registered client is kept for registrationTtl, not for good', async () => {
  const store = createMemoryStore<TestUser>()
  app = await startTestApp({ registrationTtl: 8 * 24 * 60 * 60 }, store)
  const before = Date.now()
  const client = await registerClient(app)
  const record = await store.get(`oauth:Client.${hashSessionToken(client.clientId)}`)
  expect(record?.expiresAt).toBeGreaterThanOrEqual(before + 8 * 24 * 60 * 60 * 1000)
  expect(record?.expiresAt).toBeLessThanOrEqual(Date.now() + 8 * 24 * 60 * 60 * 1000)
})
