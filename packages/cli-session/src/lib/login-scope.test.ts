import { describe, expect, it } from 'vitest'
import { loginScope, type OAuthEndpoint } from './oauth-client.js'

// What a browser or device login asks for: the app's scopes (`remote.scope`), plus the OpenID
// Connect scopes that name the user, only where the server lists them.

const endpoint = (scopesSupported: string[] | undefined): OAuthEndpoint => ({
  server: 'http://127.0.0.1:3000',
  as: { issuer: 'http://127.0.0.1:3000', ...(scopesSupported === undefined ? {} : { scopes_supported: scopesSupported }) },
  resource: 'http://127.0.0.1:3000/rpc',
  fetch,
  timeout: 1000,
})

describe('the scope of a browser or device login', () => {
  it('adds openid and profile when the server lists them, before the app scopes', () => {
    expect(loginScope(endpoint(['openid', 'offline_access', 'profile', 'mcp:tools']), 'mcp:tools')).toBe('openid profile mcp:tools')
    expect(loginScope(endpoint(['openid', 'mcp:tools', 'notes:read']), 'mcp:tools notes:read')).toBe('openid mcp:tools notes:read')
  })

  it('asks a server that does not list openid (or lists no scopes) for the app scopes only', () => {
    expect(loginScope(endpoint(['mcp:tools', 'profile']), 'mcp:tools')).toBe('mcp:tools')
    expect(loginScope(endpoint(undefined), 'notes:read')).toBe('notes:read')
  })

  it('names a scope once even when the app lists an OpenID Connect one itself', () => {
    expect(loginScope(endpoint(['openid', 'profile']), 'openid mcp:tools')).toBe('openid profile mcp:tools')
  })
})
