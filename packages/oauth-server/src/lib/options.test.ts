import { createMemoryStore, createSessionManager, noCredential } from '@pikku/core'
import { describe, expect, it } from 'vitest'
import { createOAuthServer, type OAuthServerOptions } from '../index.js'

const sessions = createSessionManager({ store: createMemoryStore() })
const valid: OAuthServerOptions = {
  issuer: 'https://app.example.com',
  resource: 'https://app.example.com/mcp',
  sessions,
  secrets: ['s'.repeat(32)],
  signIn: { authenticator: { authenticate: async () => noCredential() }, loginUrl: (returnTo) => `/login?return_to=${returnTo}` },
}

describe('createOAuthServer options', () => {
  it('accepts a complete configuration', () => {
    expect(createOAuthServer(valid).issuer).toBe('https://app.example.com')
  })

  it('says what to change for each wrong option, when the factory is called', () => {
    const cases: [Partial<OAuthServerOptions>, RegExp][] = [
      [{ issuer: 'https://app.example.com/' }, /issuer must be an origin without a path or trailing slash/],
      [{ issuer: 'https://app.example.com/auth' }, /issuer must be an origin/],
      [{ issuer: 'http://app.example.com' }, /issuer must be https/],
      [{ issuer: 'not a url' }, /issuer must be an absolute URL/],
      [{ resource: [] }, /needs \{ resource \}/],
      [{ resource: 'https://app.example.com/mcp#x' }, /must not have a fragment/],
      [{ secrets: [] }, /at least one secret/],
      [{ secrets: ['short'] }, /secrets\[0\] must be a string of at least 32 characters; got 5 characters/],
      [{ scopes: { 'has space': 'x' } }, /scope names are 1 to 64 printable characters/],
      [{ scopes: { openid: 'x' } }, /openid is an OpenID Connect scope/],
      [{ scopes: { 'notes:write': '' } }, /needs a description/],
      [{ accessTokenTtl: 0 }, /accessTokenTtl must be a positive whole number; got 0/],
      [{ clientMetadataDocuments: { maxBytes: 1.5 } }, /clientMetadataDocuments.maxBytes must be a positive whole number/],
      [{ development: true }, /development mode needs a plain-http loopback issuer/],
      [{ registrationTtl: 3600 }, /registrationTtl \(3600 s\) must be at least the sessions' absolute timeout \(604800 s\)/],
      [{ signIn: undefined as never }, /needs \{ signIn: \{ authenticator, loginUrl \} \}/],
      [{ sessions: undefined as never }, /needs \{ sessions \}/],
    ]
    for (const [override, message] of cases) {
      expect(() => createOAuthServer({ ...valid, ...override }), JSON.stringify(override)).toThrow(message)
    }
  })

  it('is in development mode by default only on a plain-http loopback issuer', () => {
    expect(() => createOAuthServer({ ...valid, issuer: 'http://127.0.0.1:3000', resource: 'http://127.0.0.1:3000/mcp' })).not.toThrow()
    expect(() => createOAuthServer({ ...valid, issuer: 'http://localhost:3000', resource: 'http://localhost:3000/mcp', development: false })).not.toThrow()
  })

  it('authenticatorFor refuses a resource the server does not issue tokens for', () => {
    expect(() => createOAuthServer(valid).authenticatorFor('https://other.example/mcp')).toThrow(/not one of the server's resources/)
  })
})
