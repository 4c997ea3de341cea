import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createApiKeyAuthenticator, generateApiKey, readApiKey } from './api-key-authenticator.js'

// The API-key authenticator's own answers; how each protocol uses it is tested where the protocol
// lives (@pikku/middleware-http-session, @pikku/mcp-session, the demo's every-protocol test).

const CI_KEY = generateApiKey()
const CI_BOT = { userId: 'u-ci-bot', email: 'ci@example.com', role: 'user', permissions: [] }

describe('the API-key authenticator (test support, and the example of a custom credential)', () => {
  const apiKeys = createApiKeyAuthenticator({ keys: new Map([[CI_KEY, { session: CI_BOT }]]) })
  const headers = (values: Record<string, string>) => ({ header: (name: string) => values[name] })

  it('answers every outcome', async () => {
    expect(await apiKeys.authenticate(headers({}))).toEqual({ outcome: 'none' })
    expect(await apiKeys.authenticate(headers({ authorization: 'Bearer abc' }))).toEqual({ outcome: 'none' })
    expect(await apiKeys.authenticate(headers({ 'x-api-key': CI_KEY }))).toMatchObject({ outcome: 'transient', credential: 'api-key', session: { userId: 'u-ci-bot' } })
    expect(await apiKeys.authenticate({ token: CI_KEY })).toMatchObject({ outcome: 'transient', credential: 'api-key' })
    expect(await apiKeys.authenticate({ token: 'eyJhbGciOi.x.y' })).toEqual({ outcome: 'none' })
    expect(await apiKeys.authenticate(headers({ 'x-api-key': 'nope' }))).toEqual({ outcome: 'refused', credential: 'api-key', reason: 'malformed' })
    expect(await apiKeys.authenticate(headers({ 'x-api-key': generateApiKey() }))).toEqual({ outcome: 'refused', credential: 'api-key', reason: 'unknown-key' })
    expect(await apiKeys.authenticate(headers({ 'x-api-key': CI_KEY, authorization: `ApiKey ${generateApiKey()}` }))).toEqual({
      outcome: 'refused',
      credential: 'api-key',
      reason: 'ambiguous',
    })
  })

  // Header values a client can send: visible ASCII, spaces and tabs.
  const headerText = fc.array(fc.oneof(fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)), fc.constant('\t')), { maxLength: 80 }).map((chars) => chars.join(''))
  const ows = fc.constantFrom('', ' ', '\t', '  ')

  it('reads a key from either header, whatever the scheme’s case and the spacing', () => {
    fc.assert(
      fc.property(fc.constantFrom('ApiKey', 'apikey', 'APIKEY', 'aPiKeY'), ows, ows, fc.constantFrom(' ', '\t', ' \t'), (scheme, before, after, separator) => {
        const key = generateApiKey()
        expect(readApiKey((name) => (name === 'authorization' ? `${before}${scheme}${separator}${key}${after}` : undefined))).toBe(key)
        expect(readApiKey((name) => (name === 'x-api-key' ? `${before}${key}${after}` : undefined))).toBe(key)
      }),
    )
  })

  it('never throws on any header, ignores other schemes, and never names what it refused', async () => {
    await fc.assert(
      fc.asyncProperty(fc.option(headerText, { nil: undefined }), fc.option(headerText, { nil: undefined }), async (direct, authorization) => {
        const values: Record<string, string> = {}
        if (direct !== undefined) values['x-api-key'] = direct
        if (authorization !== undefined) values['authorization'] = authorization
        const found = await apiKeys.authenticate(headers(values))
        expect(['none', 'refused']).toContain(found.outcome)
        if (direct === undefined && !/^[ \t]*apikey([ \t]|$)/i.test(authorization ?? '')) expect(found.outcome).toBe('none')
        if (found.outcome === 'refused') {
          expect(['malformed', 'unknown-key', 'ambiguous']).toContain(found.reason)
          for (const offered of [direct, authorization]) if (offered !== undefined && offered.trim().length >= 8) expect(JSON.stringify(found)).not.toContain(offered.trim())
        }
      }),
      { numRuns: 300 },
    )
  })
})
