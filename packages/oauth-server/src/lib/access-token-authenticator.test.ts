import { createMemoryStore, firstAuthenticated, ServiceUnavailableError, STORE_UNAVAILABLE_MESSAGE, type SessionStore } from '@pikku/core'
import { afterEach, describe, expect, it } from 'vitest'
import { startTestApp, type TestApp, type TestUser } from './test-app.test-support.js'

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
    const inner = createMemoryStore<TestUser>()
    let down = false
    const store: SessionStore<TestUser> = {
      ...inner,
      get: async (id) => {
        if (down) throw new Error('connect ECONNREFUSED redis://app:hunter2@10.0.0.1')
        return inner.get(id)
      },
      set: (record) => inner.set(record),
      update: (id, version, change) => inner.update(id, version, change),
      touch: (id, a, b) => inner.touch(id, a, b),
      delete: (id, reason) => inner.delete(id, reason),
      listByUser: (userId) => inner.listByUser(userId),
      deleteByUser: (userId, options) => inner.deleteByUser(userId, options),
      subscribe: (listener) => inner.subscribe(listener),
    }
    app = await startTestApp({}, store)
    down = true
    const refused = await app.oauth.authenticator.authenticate({ token: 'A'.repeat(44) }).catch((error: unknown) => error)
    expect(refused).toBeInstanceOf(ServiceUnavailableError)
    expect((refused as Error).message).toBe(STORE_UNAVAILABLE_MESSAGE)
  })
})
