import * as oauth from 'oauth4webapi'
import { CLIFailure } from './cli-failure.js'
import type { StoredCredential } from './credential-store.js'
import { canOpenBrowser, openBrowser } from './browser-opener.js'
import { listenForCallback } from './loopback-callback.js'
import { credentialOfTokens, oauthFailure, oauthRequestOptions, type OAuthEndpoint } from './oauth-client.js'
import type { Note } from './saved-login.js'

export interface BrowserLoginOptions {
  readonly endpoint: OAuthEndpoint
  readonly client: oauth.Client
  readonly app: string
  readonly env: Readonly<Record<string, string | undefined>>
  readonly note: Note
  readonly signal: AbortSignal
  readonly now: () => number
  /** The scopes to ask for (see `loginScope`). */
  readonly scope: string
  /** How long to wait for the browser to come back. @default 5 minutes */
  readonly timeoutMs?: number
}

/**
 * `login --web`: the authorization code flow with PKCE (S256) and a loopback redirect (RFC 8252).
 * The authorization URL is printed (for copying to another browser) and opened when a browser can
 * be; the one callback is checked for `state` and `iss` before the code is exchanged.
 */
export async function loginWithBrowser(options: BrowserLoginOptions): Promise<StoredCredential> {
  const { endpoint, client, note } = options
  if (endpoint.as.authorization_endpoint === undefined) throw new CLIFailure('BAD_REQUEST', `${endpoint.server} has no authorization endpoint`)
  const verifier = oauth.generateRandomCodeVerifier()
  const state = oauth.generateRandomState()
  const callback = await listenForCallback(options.timeoutMs ?? 5 * 60_000, options.signal, options.app)
  try {
    const url = new URL(endpoint.as.authorization_endpoint)
    url.searchParams.set('response_type', 'code')
    url.searchParams.set('client_id', client.client_id)
    url.searchParams.set('redirect_uri', callback.redirectUri)
    url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(verifier))
    url.searchParams.set('code_challenge_method', 'S256')
    url.searchParams.set('state', state)
    url.searchParams.set('resource', endpoint.resource)
    url.searchParams.set('scope', options.scope)
    note(`Open this URL in a browser to log in:\n\n  ${url.href}\n`)
    if (canOpenBrowser(options.env) && (await openBrowser(url.href))) note('(Opened in your browser.) Waiting for you to approve…')
    else note('Waiting for you to approve…')
    const returned = await callback.parameters
    let parameters: URLSearchParams
    try {
      parameters = oauth.validateAuthResponse(endpoint.as, client, returned.searchParams, state)
    } catch (error) {
      if (error instanceof oauth.AuthorizationResponseError && error.error === 'access_denied') {
        throw new CLIFailure('LOGIN_DENIED', 'The sign-in was denied in the browser; nothing was saved.')
      }
      throw new CLIFailure('BAD_REQUEST', `The browser came back with an answer that does not belong to this login (${error instanceof Error ? error.message : String(error)}); nothing was saved.`)
    }
    try {
      const response = await oauth.authorizationCodeGrantRequest(endpoint.as, client, oauth.None(), parameters, callback.redirectUri, verifier, {
        ...oauthRequestOptions(endpoint),
        additionalParameters: { resource: endpoint.resource },
      })
      const tokens = await oauth.processAuthorizationCodeResponse(endpoint.as, client, response)
      return credentialOfTokens(endpoint, client.client_id, tokens, options.now())
    } catch (error) {
      throw oauthFailure(endpoint, 'the sign-in', error)
    }
  } finally {
    callback.close()
  }
}
