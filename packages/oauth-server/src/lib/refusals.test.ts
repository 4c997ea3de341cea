import { afterEach, describe, expect, it } from 'vitest'
import {
  authorizationUrl,
  CHALLENGE,
  exchangeCode,
  mcpStatus,
  registerClient,
  startTestApp,
  TestBrowser,
  tokenRequest,
  type RawClient,
  type TestApp,
} from './test-app.test-support.js'

let app: TestApp | undefined
afterEach(async () => {
  await app?.close()
  app = undefined
})

async function signedInBrowser(target: TestApp): Promise<TestBrowser> {
  const browser = new TestBrowser(target.url)
  browser.signIn(await target.login())
  return browser
}

/** Where the authorization endpoint sends the browser (no consent involved): the client's redirect with an error. */
async function authorizationError(browser: TestBrowser, url: string): Promise<URLSearchParams> {
  const response = await browser.navigate(url)
  const location = response.headers.get('location')
  if (location === null) throw new Error(`expected a redirect to the client, got ${response.status}`)
  return new URL(location).searchParams
}

async function codeFor(target: TestApp, client: RawClient, browser: TestBrowser): Promise<string> {
  const redirect = await browser.consent(authorizationUrl(target, client))
  return redirect.searchParams.get('code') as string
}

describe('the authorization request', () => {
  it('refuses a request without a PKCE challenge, back at the client with invalid_request', async () => {
    app = await startTestApp()
    const client = await registerClient(app)
    const params = await authorizationError(await signedInBrowser(app), authorizationUrl(app, client, { code_challenge: undefined, code_challenge_method: undefined }))
    expect(params.get('error')).toBe('invalid_request')
    expect(params.get('state')).toBe('state-123')
    expect(params.get('iss')).toBe(app.url)
  })

  it('refuses the plain PKCE method', async () => {
    app = await startTestApp()
    const client = await registerClient(app)
    const params = await authorizationError(await signedInBrowser(app), authorizationUrl(app, client, { code_challenge: CHALLENGE, code_challenge_method: 'plain' }))
    expect(params.get('error')).toBe('invalid_request')
  })

  it('shows an error page and redirects nowhere for a redirect URI the client did not register', async () => {
    app = await startTestApp()
    const client = await registerClient(app)
    const response = await (await signedInBrowser(app)).navigate(authorizationUrl(app, client, { redirect_uri: 'https://evil.example/callback' }))
    expect(response.status).toBe(400)
    expect(response.headers.get('location')).toBeNull()
    expect(response.headers.get('content-type')).toMatch(/text\/html/)
    expect(await response.text()).toContain('redirect_uri')
  })

  it('accepts a loopback redirect URI on another port for a native client (RFC 8252)', async () => {
    app = await startTestApp()
    const client = await registerClient(app, 'http://127.0.0.1:40000/callback')
    const redirect = await (await signedInBrowser(app)).consent(authorizationUrl(app, client, { redirect_uri: 'http://127.0.0.1:40001/callback' }))
    expect(redirect.host).toBe('127.0.0.1:40001')
    expect(redirect.searchParams.get('code')).toBeTruthy()
  })

  it('refuses a resource that is not this server, and a missing one, with invalid_target', async () => {
    app = await startTestApp()
    const client = await registerClient(app)
    const browser = await signedInBrowser(app)
    expect((await authorizationError(browser, authorizationUrl(app, client, { resource: 'https://elsewhere.example/mcp' }))).get('error')).toBe('invalid_target')
    expect((await authorizationError(browser, authorizationUrl(app, client, { resource: undefined }))).get('error')).toBe('invalid_target')
  })

  it('sends a browser without a session to the app login page, which leads back to the consent page', async () => {
    app = await startTestApp()
    const client = await registerClient(app)
    const browser = new TestBrowser(app.url)
    const authorize = await browser.request(authorizationUrl(app, client))
    const response = await browser.request(new URL(authorize.headers.get('location') as string, app.url).href)
    expect(response.status).toBe(303)
    const login = new URL(response.headers.get('location') as string, app.url)
    expect(login.pathname).toBe('/login')
    const returnTo = login.searchParams.get('return_to') as string
    expect(returnTo).toMatch(/^\/oauth\/interaction\//)
    browser.signIn(await app.login())
    const consent = await browser.navigate(returnTo)
    expect(consent.status).toBe(200)
    expect(await consent.text()).toContain('<button type="submit" name="decision" value="allow">')
  })

  it('shows a consent page naming the client and the redirect host, which cannot be framed', async () => {
    app = await startTestApp()
    const client = await registerClient(app)
    const page = await (await signedInBrowser(app)).navigate(authorizationUrl(app, client))
    const html = await page.text()
    expect(html).toContain('Raw Client')
    expect(html).toContain('127.0.0.1:53682')
    expect(html).toContain('alice@example.com')
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'")
    expect(page.headers.get('x-frame-options')).toBe('DENY')
  })

  it('answers a denial with error=access_denied, the state and the issuer', async () => {
    app = await startTestApp()
    const client = await registerClient(app)
    const redirect = await (await signedInBrowser(app)).consent(authorizationUrl(app, client), 'deny')
    expect(redirect.searchParams.get('error')).toBe('access_denied')
    expect(redirect.searchParams.get('state')).toBe('state-123')
    expect(redirect.searchParams.get('iss')).toBe(app.url)
    expect(await app.sessions.listUserSessions('u-alice')).toHaveLength(1)
  })

  it('refuses a consent POST from another site, and one without the form token', async () => {
    app = await startTestApp()
    const client = await registerClient(app)
    const browser = await signedInBrowser(app)
    const page = await browser.navigate(authorizationUrl(app, client))
    const html = await page.text()
    const action = /action="([^"]+)"/.exec(html)?.[1] as string
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1] as string
    const post = (headers: Record<string, string>, body: Record<string, string>): Promise<Response> =>
      browser.request(action, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(body).toString() })
    const crossSite = await post({ origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' }, { csrf, decision: 'allow' })
    expect(crossSite.status).toBe(403)
    expect(crossSite.headers.get('location')).toBeNull()
    const noToken = await post({ origin: app.url }, { decision: 'allow' })
    expect(noToken.status).toBe(403)
    const otherBrowsersToken = await post({ origin: app.url }, { csrf: csrf.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')), decision: 'allow' })
    expect(otherBrowsersToken.status).toBe(403)
    // Nothing was granted: alice has only her browser session.
    expect(await app.sessions.listUserSessions('u-alice')).toHaveLength(1)
  })
})

describe('the token request', () => {
  it('refuses a wrong code_verifier, and the approval starts no session', async () => {
    app = await startTestApp()
    const client = await registerClient(app)
    const code = await codeFor(app, client, await signedInBrowser(app))
    const answer = await exchangeCode(app, client, code, { code_verifier: 'another-verifier-that-is-long-enough-for-pkce-0123456789' })
    expect(answer.status).toBe(400)
    expect(answer.body['error']).toBe('invalid_grant')
    // Only the browser session: a grant's session starts with its first token.
    expect(await app.sessions.listUserSessions('u-alice')).toHaveLength(1)
  })

  it('refuses a foreign resource at the token endpoint', async () => {
    app = await startTestApp()
    const client = await registerClient(app)
    const code = await codeFor(app, client, await signedInBrowser(app))
    const answer = await exchangeCode(app, client, code, { resource: 'https://elsewhere.example/mcp' })
    expect(answer.status).toBe(400)
    expect(answer.body['error']).toBe('invalid_target')
  })

  it('refuses a reused authorization code and revokes the tokens issued from it, ending the grant session', async () => {
    app = await startTestApp()
    const client = await registerClient(app)
    const code = await codeFor(app, client, await signedInBrowser(app))
    const first = await exchangeCode(app, client, code)
    expect(first.status).toBe(200)
    const accessToken = first.body['access_token'] as string
    expect(await mcpStatus(app.mcpUrl, accessToken)).toBe(200)
    const second = await exchangeCode(app, client, code)
    expect(second.body['error']).toBe('invalid_grant')
    expect(await mcpStatus(app.mcpUrl, accessToken)).toBe(401)
    expect((await tokenRequest(app, { grant_type: 'refresh_token', refresh_token: first.body['refresh_token'] as string, client_id: client.clientId, resource: app.mcpUrl })).body['error']).toBe('invalid_grant')
    expect(await app.sessions.listUserSessions('u-alice')).toHaveLength(1)
  })

  it('binds access tokens to their resource: a token for /other gets 401 at /mcp', async () => {
    app = await startTestApp()
    const client = await registerClient(app)
    const redirect = await (await signedInBrowser(app)).consent(authorizationUrl(app, client, { resource: app.otherUrl }))
    const answer = await exchangeCode(app, client, redirect.searchParams.get('code') as string, { resource: app.otherUrl })
    expect(answer.status).toBe(200)
    const token = answer.body['access_token'] as string
    expect(await mcpStatus(app.otherUrl, token)).toBe(200)
    expect(await mcpStatus(app.mcpUrl, token)).toBe(401)
  })

  it('rotates the refresh token on every use; reusing an old one revokes the whole grant', async () => {
    app = await startTestApp()
    const client = await registerClient(app)
    const first = await exchangeCode(app, client, await codeFor(app, client, await signedInBrowser(app)))
    const refresh = (token: string): ReturnType<typeof tokenRequest> =>
      tokenRequest(app as TestApp, { grant_type: 'refresh_token', refresh_token: token, client_id: client.clientId, resource: (app as TestApp).mcpUrl })
    const second = await refresh(first.body['refresh_token'] as string)
    expect(second.status).toBe(200)
    expect(second.body['refresh_token']).not.toBe(first.body['refresh_token'])
    expect(await mcpStatus(app.mcpUrl, second.body['access_token'] as string)).toBe(200)
    const reuse = await refresh(first.body['refresh_token'] as string)
    expect(reuse.body['error']).toBe('invalid_grant')
    expect(await mcpStatus(app.mcpUrl, second.body['access_token'] as string)).toBe(401)
    expect((await refresh(second.body['refresh_token'] as string)).body['error']).toBe('invalid_grant')
    expect(await app.sessions.listUserSessions('u-alice')).toHaveLength(1)
  })
})

describe('scopes', () => {
  it('a client that names no scope is asked for mcp:tools, and its token carries it', async () => {
    app = await startTestApp()
    const client = await registerClient(app)
    const redirect = await (await signedInBrowser(app)).consent(authorizationUrl(app, client, { scope: undefined }))
    const answer = await exchangeCode(app, client, redirect.searchParams.get('code') as string)
    expect(answer.body['scope']).toBe('mcp:tools')
  })

  it('an access token carries only the scopes the user granted; an app scope is granted only when asked for', async () => {
    app = await startTestApp()
    const client = await registerClient(app)
    const browser = await signedInBrowser(app)
    const narrow = await exchangeCode(app, client, await codeFor(app, client, browser))
    expect(narrow.body['scope']).toBe('mcp:tools')
    const page = await browser.navigate(authorizationUrl(app, client, { scope: 'mcp:tools notes:write' }))
    expect(await page.text()).toContain('Write notes')
    const redirect = await browser.consent(authorizationUrl(app, client, { scope: 'mcp:tools notes:write' }))
    const wide = await exchangeCode(app, client, redirect.searchParams.get('code') as string)
    expect(String(wide.body['scope']).split(' ').sort()).toEqual(['mcp:tools', 'notes:write'])
    const found = await app.oauth.authenticator.authenticate({ token: wide.body['access_token'] as string })
    expect(found.outcome === 'stored' && 'scopes' in found ? [...(found.scopes as string[])].sort() : []).toEqual(['mcp:tools', 'notes:write'])
  })
})
