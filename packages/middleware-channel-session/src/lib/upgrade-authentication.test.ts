import {
  createMemoryStore,
  createSessionManager,
  firstAuthenticated,
  noCredential,
  type SessionAuthenticator,
  type UserSession,
} from '@pikku/core'
import type { UpgradeRefusedError } from '@pikku/channel/testing'
import { afterEach, describe, expect, it } from 'vitest'
import { createChannelSessions, type ChannelSessionsOptions } from './channel-sessions.js'
import { FOREIGN_ORIGIN, httpAuthenticator, PARTNER_ORIGIN, startTestApp, type TestApp } from './channel-test-app.test-support.js'
import { bearerSubprotocols } from './subprotocol-token.js'

let app: TestApp

afterEach(async () => {
  await app?.close()
})

/** Refuses every credential it is offered; records what it was asked. */
function refusingAuthenticator(asked: string[]): SessionAuthenticator<UserSession> {
  return {
    async authenticate(input) {
      if (input.token !== undefined) {
        asked.push(`token ${input.token}`)
        return { outcome: 'refused', credential: 'bearer', reason: 'expired' }
      }
      const key = input.header('x-api-key')
      if (key === undefined) return noCredential()
      asked.push(`header ${key}`)
      return { outcome: 'refused', credential: 'api-key', reason: 'unknown-key' }
    },
  }
}

describe("the authenticator's answer at the upgrade", () => {
  it('a credential the authenticator refuses opens an anonymous connection, as a bad token always did', async () => {
    const asked: string[] = []
    app = await startTestApp({ authenticator: () => refusingAuthenticator(asked) })
    const byHeader = await app.connect({ headers: { 'x-api-key': 'key-revoked' } })
    expect((await byHeader.call('maybeMe')).result).toBeNull()
    expect((await byHeader.call('whoAmI')).error?.code).toBe('UNAUTHORIZED')
    const byToken = await app.connect({ protocols: bearerSubprotocols('expired.token') })
    expect((await byToken.call('maybeMe')).result).toBeNull()
    expect(asked).toEqual(['header key-revoked', 'token expired.token'])
    expect(app.channelSessions.boundSessionCount).toBe(0)
  })

  it('the subprotocol token is given to the authenticator alone: a refused one never falls back to the cookie', async () => {
    const asked: string[] = []
    app = await startTestApp({ authenticator: (httpSessions) => firstAuthenticated(refusingAuthenticator(asked), httpAuthenticator(httpSessions)) })
    const { cookie } = await app.httpLogin('alice')
    const client = await app.connect({ protocols: bearerSubprotocols('expired.token'), headers: { cookie }, origin: app.origin })
    expect((await client.call('maybeMe')).result).toBeNull()
    expect(asked).toEqual(['token expired.token'])
  })

  it('checks the Origin for every cookie the authenticator reads, valid or not, not only the HTTP session cookie', async () => {
    const preferences: SessionAuthenticator<UserSession> = {
      cookieNames: ['prefs'],
      async authenticate(input) {
        const cookie = input.header?.('cookie')
        if (cookie === 'prefs=1') return { outcome: 'transient', credential: 'cookie', session: { userId: 'pref-user' } }
        return cookie?.startsWith('prefs=') === true ? { outcome: 'refused', credential: 'cookie', reason: 'invalid' } : noCredential()
      },
    }
    app = await startTestApp({ authenticator: (httpSessions) => firstAuthenticated(preferences, httpAuthenticator(httpSessions)) })
    for (const cookie of ['prefs=1', 'prefs=forged']) {
      const refused = await app.connect({ headers: { cookie }, origin: FOREIGN_ORIGIN }).catch((error: unknown) => error)
      expect((refused as UpgradeRefusedError).status).toBe(403)
    }
    const allowed = await app.connect({ headers: { cookie: 'prefs=1' }, origin: PARTNER_ORIGIN })
    expect((await allowed.call('maybeMe')).result).toBe('pref-user')
  })

  it('an authenticator that says it read a cookie it did not declare still gets the Origin check', async () => {
    const undeclared: SessionAuthenticator<UserSession> = {
      async authenticate(input) {
        return input.header?.('cookie') === 'other=1' ? { outcome: 'transient', credential: 'cookie', session: { userId: 'cookie-user' } } : noCredential()
      },
    }
    app = await startTestApp({ authenticator: () => undeclared })
    const refused = await app.connect({ headers: { cookie: 'other=1' }, origin: FOREIGN_ORIGIN }).catch((error: unknown) => error)
    expect((refused as UpgradeRefusedError).status).toBe(403)
  })
})

describe('apps that still pass the version-1 credentials', () => {
  it('keep working: the cookie and the bearer token open sessions, a bad token an anonymous connection, a foreign cookie 403', async () => {
    app = await startTestApp({ legacyCredentials: true })
    const { cookie, token } = await app.httpLogin('alice')
    const byCookie = await app.connect({ headers: { cookie }, origin: app.origin })
    expect((await byCookie.call('whoAmI')).result).toMatchObject({ userId: 'alice' })
    const byToken = await app.connect({ protocols: bearerSubprotocols(token) })
    expect((await byToken.call('whoAmI')).result).toMatchObject({ userId: 'alice' })
    const badToken = await app.connect({ protocols: bearerSubprotocols('not.a.jwt'), headers: { cookie }, origin: app.origin })
    expect((await badToken.call('maybeMe')).result).toBeNull()
    const foreign = await app.connect({ headers: { cookie }, origin: FOREIGN_ORIGIN }).catch((error: unknown) => error)
    expect((foreign as UpgradeRefusedError).status).toBe(403)
    expect(app.channelSessions.boundSessionCount).toBe(1)
  })
})

describe('options, checked when the factory is called', () => {
  const sessions = createSessionManager({ store: createMemoryStore({ sweepInterval: 0 }) })
  const authenticator: SessionAuthenticator<UserSession> = { authenticate: async () => noCredential() }

  it('asks for an authenticator, saying where to get one', () => {
    expect(() => createChannelSessions({ sessions } as ChannelSessionsOptions)).toThrow(
      "createChannelSessions needs { authenticator }: pass the authenticator of the app's HTTP strategy",
    )
    expect(() => createChannelSessions({ sessions, authenticator: {} as SessionAuthenticator<UserSession> })).toThrow('createChannelSessions needs { authenticator }')
  })

  it('refuses authenticator and credentials together', () => {
    const credentials = { authenticate: async () => undefined, authenticateToken: async () => undefined, cookieName: undefined }
    expect(() => createChannelSessions({ sessions, authenticator, credentials })).toThrow('not both: pass only authenticator')
  })

  it('refuses cookie names that are not names', () => {
    expect(() => createChannelSessions({ sessions, authenticator: { ...authenticator, cookieNames: [''] } })).toThrow('authenticator.cookieNames must be an array of cookie names')
  })

  it('refuses a transient recheck interval that is not a positive number', () => {
    for (const transientRecheckInterval of [0, -1, Number.NaN, '60000' as unknown as number]) {
      expect(() => createChannelSessions({ sessions, authenticator, transientRecheckInterval })).toThrow('transientRecheckInterval must be a positive number of milliseconds, or Infinity')
    }
    createChannelSessions({ sessions, authenticator, transientRecheckInterval: Number.POSITIVE_INFINITY }).close()
  })
})
