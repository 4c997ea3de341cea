import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import type { OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js'
import { createMemoryStore } from '@pikku/core'
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { afterEach, describe, expect, it } from 'vitest'
import { MemoryOAuthClientProvider } from '../testing.js'
import { authorizationUrl, mcpStatus, startTestApp, TestBrowser, type TestApp, type TestUser } from './test-app.test-support.js'

let app: TestApp | undefined
afterEach(async () => {
  await app?.close()
  app = undefined
})

const REDIRECT = 'http://127.0.0.1:53682/callback'

/** Connects the SDK's client; on 401 runs discovery, registration and the browser step, then connects again. */
async function connectWithOAuth(target: TestApp, provider: MemoryOAuthClientProvider, browser: TestBrowser, url = target.mcpUrl): Promise<Client> {
  const first = new StreamableHTTPClientTransport(new URL(url), { authProvider: provider })
  const client = new Client({ name: 'test-client', version: '1.0.0' })
  await expect(client.connect(first)).rejects.toBeInstanceOf(UnauthorizedError)
  const authorizationUrl = provider.authorizationUrl
  if (authorizationUrl === undefined) throw new Error('the SDK did not start an authorization')
  const redirect = await browser.consent(authorizationUrl.href)
  expect(redirect.origin + redirect.pathname).toBe(REDIRECT)
  expect(redirect.searchParams.get('iss')).toBe(target.url)
  await first.finishAuth(redirect.searchParams.get('code') as string)
  const connected = new Client({ name: 'test-client', version: '1.0.0' })
  await connected.connect(new StreamableHTTPClientTransport(new URL(url), { authProvider: provider }))
  return connected
}

async function whoami(client: Client): Promise<string> {
  const result = await client.callTool({ name: 'whoami', arguments: {} })
  return (result.content as { text: string }[])[0]?.text ?? ''
}

describe('an MCP client that knows only the URL', () => {
  it('registers itself, gets the user consent and calls a tool as alice, in a session of her own', async () => {
    app = await startTestApp()
    const browser = new TestBrowser(app.url)
    browser.signIn(await app.login())
    const provider = new MemoryOAuthClientProvider({ redirectUrl: REDIRECT })
    const client = await connectWithOAuth(app, provider, browser)
    const [email, sessionId] = (await whoami(client)).split(' ')
    expect(email).toBe('alice@example.com')
    const listed = await app.sessions.listUserSessions('u-alice')
    // The browser session and the grant's session: two sessions of alice, the grant one listed like any other.
    expect(listed.map((record) => record.id)).toContain(sessionId)
    expect(listed).toHaveLength(2)
    expect(await app.oauth.clientOfSession(sessionId as string)).toEqual({ clientId: provider.clientInformation()?.client_id, clientName: 'Test MCP Client' })
    // In the user's session list it is an OAuth session named after the client's registration.
    const entries = await app!.sessions.list('u-alice')
    expect(entries.find((entry) => entry.handle === app!.sessions.handleOf(sessionId as string))).toMatchObject({
      protocol: 'mcp',
      credential: 'oauth',
      client: 'Test MCP Client',
    })
    await client.close()
  })
})

/** Serves client metadata documents from a second loopback origin, as a client's website would. */
async function startDocumentHost(handler: (req: IncomingMessage, res: ServerResponse, origin: string) => void): Promise<{ origin: string; close(): Promise<void> }> {
  const server = createServer((req, res) => handler(req, res, origin))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    origin,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    }),
  }
}

describe('clients identified by a client metadata document', () => {
  it('completes the flow with a client_id that is the URL of its metadata document on another origin', async () => {
    app = await startTestApp()
    const host = await startDocumentHost((_req, res, origin) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ client_id: `${origin}/client.json`, client_name: 'Document Client', redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token'] }))
    })
    try {
      const browser = new TestBrowser(app.url)
      browser.signIn(await app.login())
      // The SDK sends only HTTPS metadata URLs itself; a client with a known client_id sends it as is.
      const provider = new MemoryOAuthClientProvider({ redirectUrl: REDIRECT, clientId: `${host.origin}/client.json` })
      const client = await connectWithOAuth(app, provider, browser)
      const [email, sessionId] = (await whoami(client)).split(' ')
      expect(email).toBe('alice@example.com')
      expect(await app.oauth.clientOfSession(sessionId as string)).toEqual({ clientId: `${host.origin}/client.json`, clientName: 'Document Client' })
      await client.close()
    } finally {
      await host.close()
    }
  })

  it('refuses a document larger than the limit, one that answers too slowly, and one naming another client_id', async () => {
    app = await startTestApp({ clientMetadataDocuments: { maxBytes: 2048, timeoutMs: 300 } })
    const host = await startDocumentHost((req, res, origin) => {
      const body = { client_id: `${origin}${req.url}`, client_name: 'x'.repeat(req.url === '/big.json' ? 4000 : 10), redirect_uris: [REDIRECT] }
      if (req.url === '/slow.json') return void setTimeout(() => res.end(JSON.stringify(body)), 2000)
      if (req.url === '/other.json') body.client_id = `${origin}/someone-else.json`
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify(body))
    })
    try {
      const browser = new TestBrowser(app.url)
      browser.signIn(await app.login())
      for (const [path, reason] of [['/big.json', 'larger than 2048 bytes'], ['/slow.json', 'longer than 300 ms'], ['/other.json', 'another client_id']] as const) {
        const started = Date.now()
        const page = await browser.navigate(authorizationUrl(app, { clientId: `${host.origin}${path}`, redirectUri: REDIRECT }))
        expect(page.status).toBe(400)
        expect(page.headers.get('location')).toBeNull()
        expect(await page.text()).toContain(reason)
        expect(Date.now() - started).toBeLessThan(1500)
      }
    } finally {
      await host.close()
    }
  })

  it('does not fetch loopback client ids when not in development', async () => {
    app = await startTestApp({ development: false })
    const page = await new TestBrowser(app.url).navigate(authorizationUrl(app, { clientId: 'http://127.0.0.1:9/client.json', redirectUri: REDIRECT }))
    expect(page.status).toBe(400)
    expect(await page.text()).toContain('invalid_client')
  })
})

describe('a grant is a user session', () => {
  async function grantedClient(target: TestApp): Promise<{ client: Client; provider: MemoryOAuthClientProvider; sessionId: string }> {
    const browser = new TestBrowser(target.url)
    browser.signIn(await target.login())
    const provider = new MemoryOAuthClientProvider({ redirectUrl: REDIRECT })
    const client = await connectWithOAuth(target, provider, browser)
    const sessionId = (await whoami(client)).split(' ')[1] as string
    return { client, provider, sessionId }
  }

  it('the SDK client refreshes when its access token is refused, and gets a rotated refresh token', async () => {
    app = await startTestApp()
    const { provider } = await grantedClient(app)
    const before = provider.tokens() as OAuthTokens
    provider.saveTokens({ ...before, access_token: 'an-access-token-the-server-never-issued' })
    const client = new Client({ name: 'test-client', version: '1.0.0' })
    await client.connect(new StreamableHTTPClientTransport(new URL(app.mcpUrl), { authProvider: provider }))
    expect((await whoami(client)).split(' ')[0]).toBe('alice@example.com')
    const after = provider.tokens() as OAuthTokens
    expect(after.refresh_token).toBeDefined()
    expect(after.refresh_token).not.toBe(before.refresh_token)
    await client.close()
  })

  it('revoking the session (one session, or log out everywhere) makes the next MCP request 401', async () => {
    app = await startTestApp()
    const first = await grantedClient(app)
    const token = (first.provider.tokens() as OAuthTokens).access_token
    expect(await mcpStatus(app.mcpUrl, token)).toBe(200)
    await app.sessions.revoke(first.sessionId)
    expect(await mcpStatus(app.mcpUrl, token)).toBe(401)
    // Nor can the client refresh its way back in.
    const refreshed = await fetch(`${app.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: (first.provider.tokens() as OAuthTokens).refresh_token as string, client_id: first.provider.clientInformation()?.client_id as string, resource: app.mcpUrl }).toString(),
    })
    expect(refreshed.status).toBe(400)
    expect(((await refreshed.json()) as { error: string }).error).toBe('invalid_grant')
    const second = await grantedClient(app)
    await app.sessions.revokeUser('u-alice')
    expect(await mcpStatus(app.mcpUrl, (second.provider.tokens() as OAuthTokens).access_token)).toBe(401)
  })

  it('the revocation endpoint ends the grant and its session', async () => {
    app = await startTestApp()
    const { provider, sessionId } = await grantedClient(app)
    const tokens = provider.tokens() as OAuthTokens
    const response = await fetch(`${app.url}/oauth/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: tokens.refresh_token as string, client_id: provider.clientInformation()?.client_id as string }).toString(),
    })
    expect(response.status).toBe(200)
    expect(await mcpStatus(app.mcpUrl, tokens.access_token)).toBe(401)
    expect((await app.sessions.listUserSessions('u-alice')).map((record) => record.id)).not.toContain(sessionId)
  })

  it("the session's idle timeout ends the grant", async () => {
    let now = Date.now()
    app = await startTestApp({}, undefined, { clock: () => now, idleTimeout: 60_000 })
    const { provider } = await grantedClient(app)
    const token = (provider.tokens() as OAuthTokens).access_token
    now += 61_000
    expect(await mcpStatus(app.mcpUrl, token)).toBe(401)
  })

  it('two servers sharing a store serve each other’s grants and see each other’s revocations', async () => {
    const store = createMemoryStore<TestUser>()
    app = await startTestApp({}, store)
    const other = await startTestApp({ issuer: app.url, resource: [app.mcpUrl] }, store)
    try {
      const { provider, sessionId } = await grantedClient(app)
      const token = (provider.tokens() as OAuthTokens).access_token
      // The second server is configured for the same issuer and resource: the first one's token works there.
      expect(await mcpStatus(other.mcpUrl, token)).toBe(200)
      await other.sessions.revoke(sessionId)
      expect(await mcpStatus(other.mcpUrl, token)).toBe(401)
      expect(await mcpStatus(app.mcpUrl, token)).toBe(401)
    } finally {
      await other.close()
    }
  })
})

describe('metadata', () => {
  it('publishes RFC 8414 metadata with S256 only, public clients, client metadata documents and iss, readable cross-origin', async () => {
    app = await startTestApp()
    const response = await fetch(`${app.url}/.well-known/oauth-authorization-server`, { headers: { origin: 'http://localhost:6274' } })
    expect(response.headers.get('access-control-allow-origin')).toBe('http://localhost:6274')
    const metadata = (await response.json()) as Record<string, unknown>
    expect(metadata).toMatchObject({
      issuer: app.url,
      authorization_endpoint: `${app.url}/oauth/authorize`,
      token_endpoint: `${app.url}/oauth/token`,
      registration_endpoint: `${app.url}/oauth/register`,
      revocation_endpoint: `${app.url}/oauth/revoke`,
      code_challenge_methods_supported: ['S256'],
      client_id_metadata_document_supported: true,
      authorization_response_iss_parameter_supported: true,
      response_types_supported: ['code'],
    })
    expect(metadata['token_endpoint_auth_methods_supported']).toContain('none')
    expect(metadata['grant_types_supported']).toEqual(expect.arrayContaining(['authorization_code', 'refresh_token']))
    const preflight = await fetch(`${app.url}/oauth/token`, { method: 'OPTIONS', headers: { origin: 'http://localhost:6274', 'access-control-request-method': 'POST' } })
    expect(preflight.headers.get('access-control-allow-origin')).toBe('http://localhost:6274')
  })
})
