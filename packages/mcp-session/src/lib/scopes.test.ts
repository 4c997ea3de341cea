import {
  createMemoryStore,
  ForbiddenError,
  type PikkuMiddleware,
  type PikkuPermission,
  type SessionAuthenticator,
} from '@pikku/core'
import { describe, expect, it } from 'vitest'
import { createTestApp, jsonRpcOf, perTest, rawPost, type TestSession } from './test-app.test-support.js'

// OAuth access tokens are limited credentials: their scopes reach permission guards as
// wire.scopes, a guard refusing for a missing scope gets the step-up challenge (403
// insufficient_scope) before the tool runs, and every 401 names the scopes a client should ask for.

const { setup } = perTest()

const METADATA = { resourceUrl: 'http://127.0.0.1/mcp', authorizationServers: ['http://127.0.0.1'], scopesSupported: ['mcp:tools', 'profile:read'] }
const BOT: TestSession = { userId: 'u-bot', name: 'Bot', role: 'user' }

/** `X-Scopes: a b` names a limited credential with those scopes; `X-Scopes: *` an unlimited one. */
const scopedAuthenticator: SessionAuthenticator = {
  async authenticate(input) {
    const scopes = input.header?.('x-scopes')
    if (scopes === undefined) return { outcome: 'none' }
    if (scopes === '*') return { outcome: 'transient', credential: 'bearer', session: { ...BOT } }
    return { outcome: 'transient', credential: 'oauth', session: { ...BOT }, scopes: scopes.split(' ') }
  },
}

/** The shape of `requireScope` in @pikku/oauth-server, which this package does not depend on. */
const profileScope: PikkuPermission = (_services, _data, wire) => {
  if (wire.mcp?.tool !== 'getProfile' || wire.scopes === undefined || wire.scopes.includes('profile:read')) return true
  throw new ForbiddenError('This client was not granted the profile:read scope', { details: { error: 'insufficient_scope', scope: 'profile:read' } })
}

function scopedApp(seen: unknown[]): ReturnType<typeof createTestApp> {
  const clock = createTestApp().clock
  const record: PikkuMiddleware = async (_services, wire, next) => {
    seen.push(wire.scopes)
    await next()
  }
  return createTestApp({ clock, store: createMemoryStore({ clock: clock.now, sweepInterval: 0 }), permissions: profileScope, middleware: [record] })
}

const CALL = JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'getProfile', arguments: {} } })

describe('scopes on the MCP endpoint', () => {
  it('publishes scopes_supported and names the scopes in the 401 challenge', async () => {
    const { server } = await setup({ authenticator: scopedAuthenticator, metadata: METADATA, session: { mode: 'stateless', sweepInterval: 0 } })
    const metadata = (await (await fetch(`${server.url}/.well-known/oauth-protected-resource/mcp`)).json()) as Record<string, unknown>
    expect(metadata['scopes_supported']).toEqual(['mcp:tools', 'profile:read'])
    const response = await rawPost(server.mcpUrl, CALL)
    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate')).toBe('Bearer resource_metadata="http://127.0.0.1/.well-known/oauth-protected-resource", scope="mcp:tools profile:read"')
  })

  it('answers a call whose guard lacks a scope with 403 insufficient_scope before the tool runs', async () => {
    const seen: unknown[] = []
    const { server } = await setup({ authenticator: scopedAuthenticator, metadata: METADATA, session: { mode: 'stateless', sweepInterval: 0 } }, scopedApp(seen))
    const response = await rawPost(server.mcpUrl, CALL, { 'x-scopes': 'mcp:tools' })
    expect(response.status).toBe(403)
    expect(response.headers.get('www-authenticate')).toBe(
      'Bearer resource_metadata="http://127.0.0.1/.well-known/oauth-protected-resource", scope="mcp:tools profile:read", error="insufficient_scope"',
    )
    expect(jsonRpcOf(await response.text()).error?.message).toContain('profile:read')
    // The function never ran: the refusal came before the transport.
    expect(seen).toEqual([])
  })

  it('lets a credential with the scope call, with its scopes on wire.scopes, and does not limit the user acting directly', async () => {
    const seen: unknown[] = []
    const { server } = await setup({ authenticator: scopedAuthenticator, metadata: METADATA, session: { mode: 'stateless', sweepInterval: 0 } }, scopedApp(seen))
    const granted = await rawPost(server.mcpUrl, CALL, { 'x-scopes': 'mcp:tools profile:read' })
    expect(granted.status).toBe(200)
    expect(jsonRpcOf(await granted.text()).result?.['structuredContent']).toEqual(BOT)
    const direct = await rawPost(server.mcpUrl, CALL, { 'x-scopes': '*' })
    expect(direct.status).toBe(200)
    expect(seen).toEqual([['mcp:tools', 'profile:read'], undefined])
  })

  it('refuses scope names that could break the challenge header when the handler is created', async () => {
    await expect(setup({ metadata: { scopesSupported: ['has space'] } })).rejects.toThrow(/metadata.scopesSupported must be a list of scope names/)
  })
})
