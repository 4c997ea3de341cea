import * as oauth from 'oauth4webapi'
import { afterEach, describe, expect, it } from 'vitest'
import { authorizationUrl, mcpStatus, registerClient, startTestApp, TestBrowser, VERIFIER, type TestApp } from './test-app.test-support.js'

// A client that asks for `openid` (the CLI, to name its accounts) learns who signed in from a
// validated ID token: `sub` is the user id, and with `profile` `preferred_username` is the name the
// consent page showed. The access token stays the resource's, as without `openid`.

let app: TestApp | undefined
afterEach(async () => {
  await app?.close()
  app = undefined
})

const insecure = { [oauth.allowInsecureRequests]: true }

async function signedInFlow(target: TestApp, scope: string): Promise<{ as: oauth.AuthorizationServer; client: oauth.Client; tokens: oauth.TokenEndpointResponse; consentHtml: string }> {
  const issuer = new URL(target.url)
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { ...insecure, algorithm: 'oauth2' }))
  const raw = await registerClient(target)
  const client: oauth.Client = { client_id: raw.clientId }
  const browser = new TestBrowser(target.url)
  browser.signIn(await target.login())
  const url = authorizationUrl(target, raw, { scope })
  const consentHtml = await (await browser.navigate(url)).text()
  const redirect = await browser.consent(url)
  const parameters = oauth.validateAuthResponse(as, client, redirect.searchParams, 'state-123')
  const response = await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), parameters, raw.redirectUri, VERIFIER, { ...insecure, additionalParameters: { resource: target.mcpUrl } })
  const tokens = await oauth.processAuthorizationCodeResponse(as, client, response, { requireIdToken: scope.split(' ').includes('openid') })
  return { as, client, tokens, consentHtml }
}

describe('who signed in, for clients that ask (openid, profile)', () => {
  it('an ID token names the user (sub) and, with profile, the name the consent page shows; the access token still works at the resource', async () => {
    app = await startTestApp()
    const { as, client, tokens, consentHtml } = await signedInFlow(app, 'openid profile mcp:tools')
    expect(consentHtml).toContain('<code>openid</code>')
    expect(consentHtml).toContain('<code>profile</code>')
    const claims = oauth.getValidatedIdTokenClaims(tokens)
    expect(claims?.sub).toBe('u-alice')
    expect(claims?.['preferred_username']).toBe('alice@example.com')
    expect(claims?.aud).toBe(client.client_id)
    expect(await mcpStatus(app.mcpUrl, tokens.access_token)).toBe(200)

    // A refresh names the same user (the grant's session is read now, not the approving one).
    const refreshed = await oauth.processRefreshTokenResponse(
      as,
      client,
      await oauth.refreshTokenGrantRequest(as, client, oauth.None(), tokens.refresh_token as string, { ...insecure, additionalParameters: { resource: app.mcpUrl } }),
    )
    const again = oauth.getValidatedIdTokenClaims(refreshed)
    expect(again?.sub).toBe('u-alice')
    expect(again?.['preferred_username']).toBe('alice@example.com')
  })

  it('openid alone gives the user id without the name; no openid, no ID token and no identity line on the consent page', async () => {
    app = await startTestApp()
    const onlyId = await signedInFlow(app, 'openid mcp:tools')
    const claims = oauth.getValidatedIdTokenClaims(onlyId.tokens)
    expect(claims?.sub).toBe('u-alice')
    expect(claims?.['preferred_username']).toBeUndefined()
    const plain = await signedInFlow(app, 'mcp:tools')
    expect(plain.tokens.id_token).toBeUndefined()
    expect(plain.consentHtml).not.toContain('<code>openid</code>')
  })

  it('profile without openid is shown and granted, but makes no ID token', async () => {
    app = await startTestApp()
    const { tokens, consentHtml } = await signedInFlow(app, 'profile mcp:tools')
    expect(consentHtml).toContain('<code>profile</code>')
    expect(tokens.id_token).toBeUndefined()
    expect(await mcpStatus(app.mcpUrl, tokens.access_token)).toBe(200)
  })
})
