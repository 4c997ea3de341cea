import { createHash } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import {
  type CoreUserSession,
  createMemoryStore,
  createSessionManager,
  noCredential,
  type SessionAuthenticator,
  type SessionManager,
  type SessionManagerOptions,
  type SessionStore,
} from '@pikku/core'
import { createOAuthServer, type OAuthServer, type OAuthServerOptions } from '../index.js'
import type { OAuthAuthentication } from './access-token-authenticator.js'

export interface TestUser extends CoreUserSession {
  email: string
}

export const ALICE: TestUser = { userId: 'u-alice', email: 'alice@example.com' }

/** The app's own sign-in for tests: a `sid` cookie holding a session token. */
function cookieAuthenticator(sessions: SessionManager<TestUser>): SessionAuthenticator<TestUser> {
  return {
    cookieNames: ['sid'],
    async authenticate(input) {
      const cookie = input.header?.('cookie')
      const token = cookie
        ?.split(';')
        .map((part) => part.trim())
        .find((part) => part.startsWith('sid='))
        ?.slice(4)
      if (token === undefined) return noCredential()
      const record = await sessions.loadByToken(token)
      return record === undefined ? { outcome: 'refused', credential: 'cookie', reason: 'unknown-session' } : { outcome: 'stored', credential: 'cookie', record }
    },
  }
}

export interface TestApp {
  readonly url: string
  readonly mcpUrl: string
  readonly otherUrl: string
  readonly sessions: SessionManager<TestUser>
  readonly oauth: OAuthServer<TestUser>
  /** Signs alice in: the value of the `sid` cookie. */
  login(user?: TestUser): Promise<string>
  close(): Promise<void>
}

/**
 * An app with the authorization server, a login that sets a cookie, and two minimal MCP
 * resources (`/mcp` and `/other`) guarded by the server's authenticators.
 */
export async function startTestApp(
  overrides: Partial<OAuthServerOptions<TestUser>> = {},
  store: SessionStore<TestUser> = createMemoryStore<TestUser>(),
  managerOptions: Omit<SessionManagerOptions<TestUser>, 'store'> = {},
): Promise<TestApp> {
  const sessions = createSessionManager<TestUser>({ store, ...managerOptions })
  let oauth: OAuthServer<TestUser> | undefined
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500)
      res.end(String(error))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const mcpUrl = `${url}/mcp`
  const otherUrl = `${url}/other`
  oauth = createOAuthServer<TestUser>({
    issuer: url,
    resource: [mcpUrl, otherUrl],
    sessions,
    secrets: ['a test secret of at least 32 characters!'],
    scopes: { 'notes:write': 'Write notes' },
    signIn: { authenticator: cookieAuthenticator(sessions), loginUrl: (returnTo) => `/login?return_to=${encodeURIComponent(returnTo)}` },
    ...overrides,
  })
  const app = oauth

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (await app.handle(req, res)) return
    const path = (req.url ?? '/').split('?', 1)[0]
    if (path === '/.well-known/oauth-protected-resource/mcp' || path === '/.well-known/oauth-protected-resource') {
      json(res, 200, { resource: mcpUrl, authorization_servers: [url], scopes_supported: app.scopesSupported, bearer_methods_supported: ['header'] })
      return
    }
    if (path === '/.well-known/oauth-protected-resource/other') {
      json(res, 200, { resource: otherUrl, authorization_servers: [url], scopes_supported: app.scopesSupported })
      return
    }
    if (path === '/mcp' || path === '/other') {
      await serveMcp(req, res, path === '/mcp' ? app.authenticator : app.authenticatorFor(otherUrl), `${url}/.well-known/oauth-protected-resource${path}`)
      return
    }
    res.writeHead(404)
    res.end()
  }

  return {
    url,
    mcpUrl,
    otherUrl,
    sessions,
    oauth: app,
    async login(user = ALICE) {
      const state = sessions.createState()
      await state.set(user, { login: true })
      const result = await sessions.commit(state)
      if (result.kind !== 'created') throw new Error('login failed')
      return result.token
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    }),
  }
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers })
  res.end(JSON.stringify(body))
}

/** A minimal stateless MCP resource server: `whoami`, and `writeNote` that needs `notes:write`. */
async function serveMcp(req: IncomingMessage, res: ServerResponse, authenticator: SessionAuthenticator<TestUser>, metadataUrl: string): Promise<void> {
  const found = await authenticator.authenticate({ header: (name) => req.headers[name] as string | undefined })
  if (found.outcome !== 'stored') {
    const error = found.outcome === 'refused' ? ', error="invalid_token"' : ''
    json(res, 401, { error: 'unauthorized' }, { 'www-authenticate': `Bearer resource_metadata="${metadataUrl}", scope="mcp:tools"${error}` })
    return
  }
  const { record, scopes } = found as OAuthAuthentication<TestUser>
  const server = new McpServer({ name: 'test-resource', version: '1.0.0' })
  server.registerTool('whoami', { description: 'Who is calling' }, async () => ({ content: [{ type: 'text', text: `${record.data.email} ${record.id}` }] }))
  server.registerTool('writeNote', { description: 'Needs notes:write' }, async () =>
    scopes.includes('notes:write') ? { content: [{ type: 'text', text: 'written' }] } : { isError: true, content: [{ type: 'text', text: 'insufficient_scope' }] },
  )
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true })
  await server.connect(transport)
  res.on('close', () => {
    void transport.close()
    void server.close()
  })
  await transport.handleRequest(req, res)
}

/** A cookie-carrying browser stand-in that follows redirects by hand, so each hop can be checked. */
export class TestBrowser {
  readonly cookies = new Map<string, string>()
  constructor(readonly origin: string) {}

  signIn(token: string): void {
    this.cookies.set('sid', token)
  }

  async request(url: string, init: RequestInit = {}): Promise<Response> {
    const target = new URL(url, this.origin)
    const headers = new Headers(init.headers)
    if (target.origin === this.origin && this.cookies.size > 0) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '))
    const response = await fetch(target, { ...init, headers, redirect: 'manual' })
    if (target.origin === this.origin) {
      for (const line of response.headers.getSetCookie()) {
        const [pair] = line.split(';')
        const index = (pair ?? '').indexOf('=')
        const name = (pair ?? '').slice(0, index)
        const value = (pair ?? '').slice(index + 1)
        if (/expires=Thu, 01 Jan 1970/i.test(line) || value === '') this.cookies.delete(name)
        else this.cookies.set(name, value)
      }
    }
    return response
  }

  /** Follows redirects on this origin; stops at the first one that leaves it (the client's redirect URI) or at a page. */
  async navigate(url: string, init: RequestInit = {}): Promise<Response> {
    let response = await this.request(url, init)
    for (let hops = 0; hops < 10; hops++) {
      const location = response.headers.get('location')
      if (response.status < 300 || response.status >= 400 || location === null) return response
      const next = new URL(location, url)
      if (next.origin !== this.origin) return response
      url = next.href
      response = await this.request(url)
    }
    throw new Error('too many redirects')
  }

  /** Opens an authorization URL, approves (or denies) on the consent page, and returns the redirect to the client. */
  async consent(authorizationUrl: string, decision: 'allow' | 'deny' = 'allow'): Promise<URL> {
    const page = await this.navigate(authorizationUrl)
    if (page.status !== 200) throw new Error(`consent page: ${page.status} ${await page.text()}`)
    const html = await page.text()
    const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1]
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1]
    if (action === undefined || csrf === undefined) throw new Error(`no consent form in ${html}`)
    const done = await this.navigate(new URL(action.replaceAll('&#38;', '&'), this.origin).href, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: this.origin },
      body: new URLSearchParams({ csrf, decision }).toString(),
    })
    const location = done.headers.get('location')
    if (location === null) throw new Error(`no redirect after consent: ${done.status} ${await done.text()}`)
    return new URL(location)
  }
}

/** A registered public client and a PKCE pair, for the refusal tests that speak the protocol by hand. */
export interface RawClient {
  readonly clientId: string
  readonly redirectUri: string
}

export async function registerClient(app: TestApp, redirectUri = 'http://127.0.0.1:53682/callback'): Promise<RawClient> {
  const response = await fetch(`${app.url}/oauth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: 'Raw Client', redirect_uris: [redirectUri], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'] }),
  })
  if (response.status !== 201) throw new Error(`registration: ${response.status} ${await response.text()}`)
  const body = (await response.json()) as { client_id: string }
  return { clientId: body.client_id, redirectUri }
}

export const VERIFIER = 'a-verifier-that-is-long-enough-for-pkce-0123456789abcdef'
export const CHALLENGE = createHash('sha256').update(VERIFIER).digest('base64url')

export function authorizationUrl(app: TestApp, client: RawClient, overrides: Record<string, string | undefined> = {}): string {
  const params: Record<string, string | undefined> = {
    response_type: 'code',
    client_id: client.clientId,
    redirect_uri: client.redirectUri,
    scope: 'mcp:tools',
    state: 'state-123',
    code_challenge: CHALLENGE,
    code_challenge_method: 'S256',
    resource: app.mcpUrl,
    ...overrides,
  }
  const url = new URL(`${app.url}/oauth/authorize`)
  for (const [key, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(key, value)
  return url.href
}

export interface TokenAnswer {
  readonly status: number
  readonly body: Record<string, unknown>
}

export async function tokenRequest(app: TestApp, params: Record<string, string>): Promise<TokenAnswer> {
  const response = await fetch(`${app.url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params).toString(),
  })
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}

export async function exchangeCode(app: TestApp, client: RawClient, code: string, overrides: Record<string, string> = {}): Promise<TokenAnswer> {
  return tokenRequest(app, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: client.redirectUri,
    client_id: client.clientId,
    code_verifier: VERIFIER,
    resource: app.mcpUrl,
    ...overrides,
  })
}

export { mcpStatusWithToken as mcpStatus } from '../testing.js'
