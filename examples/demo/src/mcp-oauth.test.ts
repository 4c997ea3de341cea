import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { type OAuthClientProvider, UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { CookieJar } from 'tough-cookie'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ALICE, startHarness, type Harness } from './demo-harness.test-support.js'

// An MCP client that knows nothing but the demo's /mcp URL signs alice in by itself: discovery,
// dynamic registration, the demo's login page, consent, token exchange, then getProfile as alice.

let harness: Harness

beforeAll(async () => {
  harness = await startHarness()
})

afterAll(async () => {
  await harness.close()
})

const REDIRECT = 'http://127.0.0.1:53682/callback'

class MemoryOAuthProvider implements OAuthClientProvider {
  #client: OAuthClientInformationMixed | undefined
  #tokens: OAuthTokens | undefined
  #verifier = ''
  authorizationUrl: URL | undefined
  get redirectUrl(): string {
    return REDIRECT
  }
  get clientMetadata(): OAuthClientMetadata {
    return { client_name: 'Demo Test Agent', redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none' }
  }
  clientInformation(): OAuthClientInformationMixed | undefined {
    return this.#client
  }
  saveClientInformation(info: OAuthClientInformationMixed): void {
    this.#client = info
  }
  tokens(): OAuthTokens | undefined {
    return this.#tokens
  }
  saveTokens(tokens: OAuthTokens): void {
    this.#tokens = tokens
  }
  redirectToAuthorization(url: URL): void {
    this.authorizationUrl = url
  }
  saveCodeVerifier(verifier: string): void {
    this.#verifier = verifier
  }
  codeVerifier(): string {
    return this.#verifier
  }
}

/** A browser: a cookie jar, redirects followed one by one on the demo's origin. */
function browser(origin: string): { get(url: string): Promise<Response>; post(url: string, body: string, type: string): Promise<Response> } {
  const jar = new CookieJar()
  const send = async (url: string, init: RequestInit): Promise<Response> => {
    const headers = new Headers(init.headers)
    const cookie = await jar.getCookieString(url)
    if (cookie !== '') headers.set('cookie', cookie)
    const response = await fetch(url, { ...init, headers, redirect: 'manual' })
    for (const line of response.headers.getSetCookie()) await jar.setCookie(line, url)
    return response
  }
  const follow = async (url: string, init: RequestInit): Promise<Response> => {
    let response = await send(url, init)
    for (let hop = 0; hop < 10; hop++) {
      const location = response.headers.get('location')
      if (location === null) return response
      const next = new URL(location, url)
      if (next.origin !== origin || next.pathname === '/') return response
      url = next.href
      response = await send(url, { method: 'GET' })
    }
    throw new Error('too many redirects')
  }
  return {
    get: (url) => follow(url, { method: 'GET' }),
    post: (url, body, type) => follow(url, { method: 'POST', body, headers: { 'content-type': type, origin } }),
  }
}

describe('MCP on the demo with OAuth', () => {
  it('a client that knows only /mcp signs alice in through the login and consent pages and calls getProfile as her', async () => {
    const origin = harness.demo.url
    const provider = new MemoryOAuthProvider()
    const first = new StreamableHTTPClientTransport(new URL(`${origin}/mcp`), { authProvider: provider })
    const unauthenticated = new Client({ name: 'demo-oauth-agent', version: '0.0.1' })
    // The SDK's client: 401 → protected-resource metadata → the demo's authorization server → registration.
    await unauthenticated.connect(first)
    await expect(unauthenticated.callTool({ name: 'getProfile', arguments: {} })).rejects.toBeInstanceOf(UnauthorizedError)
    const authorizationUrl = provider.authorizationUrl as URL
    expect(authorizationUrl.origin).toBe(origin)

    const user = browser(origin)
    // Not signed in: the authorization endpoint sends the browser to the demo's login page.
    const toLogin = await user.get(authorizationUrl.href)
    const loginPage = new URL(toLogin.headers.get('location') as string, origin)
    expect(loginPage.pathname).toBe('/')
    const returnTo = loginPage.searchParams.get('return_to') as string
    expect((await user.post(`${origin}/login`, JSON.stringify(ALICE), 'application/json')).status).toBe(200)
    // The login page goes back to return_to: the consent page.
    const consent = await user.get(`${origin}${returnTo}`)
    const html = await consent.text()
    expect(html).toContain('Demo Test Agent')
    expect(html).toContain('<button type="submit" name="decision" value="allow">')
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1] as string
    const approved = await user.post(`${origin}${returnTo}`, new URLSearchParams({ csrf, decision: 'allow' }).toString(), 'application/x-www-form-urlencoded')
    const redirect = new URL(approved.headers.get('location') as string)
    expect(redirect.origin + redirect.pathname).toBe(REDIRECT)
    expect(redirect.searchParams.get('iss')).toBe(origin)
    expect(redirect.searchParams.get('error')).toBeNull()
    await first.finishAuth(redirect.searchParams.get('code') as string)

    const client = new Client({ name: 'demo-oauth-agent', version: '0.0.1' })
    await client.connect(new StreamableHTTPClientTransport(new URL(`${origin}/mcp`), { authProvider: provider }))
    const profile = (await client.callTool({ name: 'getProfile', arguments: {} })) as CallToolResult
    expect(profile.isError).not.toBe(true)
    expect(JSON.stringify(profile.structuredContent ?? profile.content)).toContain('alice@example.com')

    // The grant is one of alice's sessions: revoking her sessions ends it.
    const sessions = await harness.app.sessions.listUserSessions('user-alice')
    expect(sessions.length).toBeGreaterThanOrEqual(2)
    await harness.app.sessions.revokeUser('user-alice')
    const after = await fetch(`${origin}/mcp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${provider.tokens()?.access_token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'probe', version: '1' } } }),
    })
    expect(after.status).toBe(401)
    expect(after.headers.get('www-authenticate')).toContain('resource_metadata=')
    await client.close()
  })
})
