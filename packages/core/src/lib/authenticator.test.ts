import { describe, expect, it } from 'vitest'
import { adoptAuthentication, firstAuthenticated, noCredential, type Authentication, type SessionAuthenticator } from './authenticator.js'
import type { CoreUserSession } from './register.js'
import { SessionState } from './session-state.js'
import type { SessionRecord } from './session-store.js'

const record: SessionRecord<CoreUserSession> = { id: 'sid', userId: 'alice', data: { userId: 'alice' }, version: 1, createdAt: 0, lastActiveAt: 0, expiresAt: 1_000 }

/** Reads `X-Api-Key: key-<user>`; `bad` is a refused key. */
const apiKeys: SessionAuthenticator<CoreUserSession> = {
  async authenticate(input) {
    const key = input.header?.('x-api-key')
    if (key === undefined) return noCredential()
    if (!key.startsWith('key-')) return { outcome: 'refused', credential: 'api-key', reason: 'unknown-key' }
    return { outcome: 'transient', credential: 'api-key', session: { userId: key.slice(4) } }
  },
}
const cookies: SessionAuthenticator<CoreUserSession> = {
  cookieNames: ['sid'],
  async authenticate(input) {
    return input.header?.('cookie') === 'sid=good' ? { outcome: 'stored', credential: 'cookie', record } : noCredential()
  },
}
const headers = (values: Record<string, string>) => ({ header: (name: string) => values[name] })

describe('one credential interface for every protocol', () => {
  it('the first authenticator that recognizes a credential answers', async () => {
    const both = firstAuthenticated(apiKeys, cookies)
    expect((await both.authenticate(headers({ 'x-api-key': 'key-bob', cookie: 'sid=good' }))).outcome).toBe('transient')
    expect((await both.authenticate(headers({ cookie: 'sid=good' }))).outcome).toBe('stored')
    expect((await both.authenticate(headers({}))).outcome).toBe('none')
    expect((await both.authenticate({ token: 'anything' })).outcome).toBe('none')
    expect(both.cookieNames).toEqual(['sid'])
  })

  it('a refused credential stops the search: a bad API key never falls back to the cookie', async () => {
    const found = await firstAuthenticated(apiKeys, cookies).authenticate(headers({ 'x-api-key': 'bad', cookie: 'sid=good' }))
    expect(found).toEqual({ outcome: 'refused', credential: 'api-key', reason: 'unknown-key' })
  })

  it('adopting an authentication resumes the state as stored or transient, and nothing else', async () => {
    const stored = new SessionState<CoreUserSession>()
    expect(adoptAuthentication(stored, { outcome: 'stored', credential: 'cookie', record })).toBe(true)
    expect(stored.baseline).toBe(record)
    const transient = new SessionState<CoreUserSession>()
    expect(adoptAuthentication(transient, { outcome: 'transient', credential: 'api-key', session: { userId: 'bob' } })).toBe(true)
    expect(transient.transient).toBe(true)
    expect((await transient.get())?.userId).toBe('bob')
    const untouched = new SessionState<CoreUserSession>()
    for (const found of [noCredential(), { outcome: 'refused', credential: 'bearer', reason: 'expired' }] as Authentication<CoreUserSession>[]) {
      expect(adoptAuthentication(untouched, found)).toBe(false)
    }
    expect(untouched.current).toBeUndefined()
  })

  it('refuses what is not an authenticator when combining, saying which argument', () => {
    expect(() => firstAuthenticated()).toThrow(/at least one/)
    expect(() => firstAuthenticated(apiKeys, {} as SessionAuthenticator<CoreUserSession>)).toThrow(/argument 1 is not an authenticator/)
  })
})
