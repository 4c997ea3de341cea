import { hostname } from 'node:os'
import * as oauth from 'oauth4webapi'
import { CLIFailure } from './cli-failure.js'
import type { OAuthCredential, StoredCredential } from './credential-store.js'
import { isStorableToken } from './credential-format.js'

/** The grant type of RFC 8628, as the token endpoint names it. */
export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code'

/** The loopback redirect the CLI registers; any port is accepted for it at authorization (RFC 8252). */
export const LOOPBACK_REDIRECT = 'http://127.0.0.1/callback'

/** How this CLI reaches one server's authorization server. */
export interface OAuthEndpoint {
  readonly server: string
  readonly as: oauth.AuthorizationServer
  /** The resource tokens are asked for (RFC 8707): the server's RPC endpoint. */
  readonly resource: string
  readonly fetch: typeof fetch
  readonly timeout: number
}

/** The session label the server records for a CLI's session (the inventory shows it). */
export function cliSessionLabel(): string {
  const host = hostname().replace(/[^A-Za-z0-9.-]/g, '-').slice(0, 64)
  return `cli@${host === '' ? 'unknown-host' : host}`
}

function requestOptions(endpoint: Pick<OAuthEndpoint, 'server' | 'fetch' | 'timeout'>): { [oauth.customFetch]: typeof fetch; [oauth.allowInsecureRequests]: boolean; signal: AbortSignal } {
  return {
    [oauth.customFetch]: endpoint.fetch,
    // Plain http only where the server itself is plain http (a loopback demo, with the CLI's
    // cleartext warning already printed); an https server's endpoints must be https too.
    [oauth.allowInsecureRequests]: endpoint.server.startsWith('http://'),
    signal: AbortSignal.timeout(endpoint.timeout),
  }
}

/**
 * The server's authorization server metadata (RFC 8414), or undefined when the server has none
 * (404: it offers only the password login).
 */
export async function discoverOAuth(server: string, resource: string, fetchImpl: typeof fetch, timeout: number): Promise<OAuthEndpoint | undefined> {
  const issuer = new URL(server)
  const base = { server, fetch: fetchImpl, timeout }
  let response: Response
  try {
    response = await oauth.discoveryRequest(issuer, { ...requestOptions(base), algorithm: 'oauth2' })
  } catch (error) {
    throw unreachable(server, error)
  }
  if (response.status === 404) return undefined
  try {
    const as = await oauth.processDiscoveryResponse(issuer, response)
    return { ...base, as, resource }
  } catch (error) {
    throw new CLIFailure('SERVICE_UNAVAILABLE', `${server} answered its authorization server metadata with something unusable (${describe(error)})`)
  }
}

/** Registers this CLI as a public native client (RFC 7591), for the code flow and the device flow. */
export async function registerCLIClient(endpoint: OAuthEndpoint, app: string): Promise<oauth.Client> {
  if (endpoint.as.registration_endpoint === undefined) {
    throw new CLIFailure('BAD_REQUEST', `${endpoint.server} does not let clients register themselves, so ${app} cannot sign in with a browser there`, {
      hint: `Log in with a password: \`${app} login --password --server ${endpoint.server}\`.`,
    })
  }
  const grantTypes = ['authorization_code', 'refresh_token']
  if (endpoint.as.device_authorization_endpoint !== undefined) grantTypes.push(DEVICE_CODE_GRANT)
  try {
    const response = await oauth.dynamicClientRegistrationRequest(
      endpoint.as,
      {
        // The label of the grant's session in the user's session inventory.
        client_name: cliSessionLabel(),
        redirect_uris: [LOOPBACK_REDIRECT],
        grant_types: grantTypes,
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
        application_type: 'native',
        software_id: app,
      },
      requestOptions(endpoint),
    )
    const registered = await oauth.processDynamicClientRegistrationResponse(response)
    return registered as oauth.Client
  } catch (error) {
    throw oauthFailure(endpoint, 'registering the CLI', error)
  }
}

/**
 * The scopes a login asks for: the app's (`remote.scope`), and `openid` and `profile` when the
 * server lists them, so the ID token names the user. A server that does not list them is not
 * asked (it could refuse an unknown scope); its logins show no user.
 */
export function loginScope(endpoint: OAuthEndpoint, scope: string): string {
  const offered = endpoint.as.scopes_supported ?? []
  const identity = offered.includes('openid') ? ['openid', ...(offered.includes('profile') ? ['profile'] : [])] : []
  return [...new Set([...identity, ...scope.split(' ')])].join(' ')
}

/** Who signed in, from the ID token oauth4webapi validated (issuer, audience, expiry) with the tokens. */
export function identityOfTokens(tokens: oauth.TokenEndpointResponse): { user?: string; userId?: string } {
  const claims = oauth.getValidatedIdTokenClaims(tokens)
  if (claims === undefined) return {}
  const fit = (value: unknown): string | undefined => (typeof value === 'string' && value.length > 0 && value.length <= 256 ? value : undefined)
  const userId = fit(claims.sub)
  const user = fit(claims['preferred_username']) ?? fit(claims['email']) ?? fit(claims['name']) ?? userId
  return { ...(user === undefined ? {} : { user }), ...(userId === undefined ? {} : { userId }) }
}

/**
 * Whether the server still knows a client id registered earlier. Asked at the revocation
 * endpoint with a token that was never issued: RFC 7009 answers 200 for an unknown token, and the
 * endpoint authenticates the client first, so a forgotten client gets `invalid_client` (a
 * browser sent to the authorization endpoint with it would only see an error page).
 */
export async function clientIsKnown(endpoint: OAuthEndpoint, clientId: string): Promise<boolean> {
  // Without a revocation endpoint there is nothing to ask; the login itself will tell.
  if (endpoint.as.revocation_endpoint === undefined) return true
  try {
    const response = await oauth.revocationRequest(endpoint.as, { client_id: clientId }, oauth.None(), oauth.generateRandomState(), requestOptions(endpoint))
    await oauth.processRevocationResponse(response)
    return true
  } catch (error) {
    if (error instanceof oauth.ResponseBodyError && error.error === 'invalid_client') return false
    throw oauthFailure(endpoint, 'checking the registered client', error)
  }
}

/** The saved login of a token response: the access token, what renews it, and who signed in. */
export function credentialOfTokens(endpoint: OAuthEndpoint, clientId: string, tokens: oauth.TokenEndpointResponse, now: number, previousRefresh?: string): StoredCredential {
  const refreshToken = tokens.refresh_token ?? previousRefresh
  if (!isStorableToken(tokens.access_token) || refreshToken === undefined || !isStorableToken(refreshToken)) {
    throw new CLIFailure('INTERNAL', `${endpoint.server} issued tokens this CLI cannot keep (no refresh token, or malformed); nothing was saved`)
  }
  const lifetime = typeof tokens.expires_in === 'number' && tokens.expires_in > 0 ? tokens.expires_in : 3600
  const oauthPart: OAuthCredential = { clientId, refreshToken, expiresAt: now + lifetime * 1000, resource: endpoint.resource }
  return { origin: endpoint.server, token: tokens.access_token, savedAt: now, oauth: oauthPart, ...identityOfTokens(tokens) }
}

/**
 * Renews an access token with the refresh token. The server rotates the refresh token; the new
 * one replaces the old in what is returned. A refusal (the grant was revoked, the session ended)
 * is UNAUTHORIZED: the user logs in again.
 */
export async function refreshCredential(endpoint: OAuthEndpoint, credential: StoredCredential & { oauth: OAuthCredential }, now: number, app: string, hintFlags: string): Promise<StoredCredential> {
  const client: oauth.Client = { client_id: credential.oauth.clientId }
  let tokens: oauth.TokenEndpointResponse
  try {
    const response = await oauth.refreshTokenGrantRequest(endpoint.as, client, oauth.None(), credential.oauth.refreshToken, {
      ...requestOptions(endpoint),
      additionalParameters: { resource: credential.oauth.resource },
    })
    tokens = await oauth.processRefreshTokenResponse(endpoint.as, client, response)
  } catch (error) {
    if (error instanceof oauth.ResponseBodyError && error.status >= 400 && error.status < 500) {
      throw new CLIFailure('UNAUTHORIZED', `Your login to ${endpoint.server} has ended and could not be renewed (${error.error_description ?? error.error}).`, {
        hint: `Run \`${app} login${hintFlags}\` to log in again.`,
      })
    }
    throw oauthFailure(endpoint, 'renewing the login', error)
  }
  return credentialOfTokens({ ...endpoint, resource: credential.oauth.resource }, credential.oauth.clientId, tokens, now, credential.oauth.refreshToken)
}

/**
 * Revokes the grant (RFC 7009) through its refresh token: the server ends the grant and its
 * session, so the access token stops working too.
 */
export async function revokeCredential(endpoint: OAuthEndpoint, credential: StoredCredential & { oauth: OAuthCredential }): Promise<void> {
  if (endpoint.as.revocation_endpoint === undefined) {
    throw new CLIFailure('SERVICE_UNAVAILABLE', `${endpoint.server} has no token revocation endpoint; the login was kept so the session can be ended later`)
  }
  const client: oauth.Client = { client_id: credential.oauth.clientId }
  try {
    const response = await oauth.revocationRequest(endpoint.as, client, oauth.None(), credential.oauth.refreshToken, {
      ...requestOptions(endpoint),
      additionalParameters: { token_type_hint: 'refresh_token' },
    })
    await oauth.processRevocationResponse(response)
  } catch (error) {
    throw oauthFailure(endpoint, 'ending the session', error)
  }
}

export { requestOptions as oauthRequestOptions }

/** A failure talking to the authorization server, as the CLI reports it. */
export function oauthFailure(endpoint: Pick<OAuthEndpoint, 'server'>, doing: string, error: unknown): CLIFailure {
  if (error instanceof CLIFailure) return error
  if (error instanceof oauth.ResponseBodyError) {
    if (error.status >= 500) return new CLIFailure('SERVICE_UNAVAILABLE', `${endpoint.server} failed while ${doing} (${error.error})`)
    return new CLIFailure('BAD_REQUEST', `${endpoint.server} refused ${doing}: ${error.error_description ?? error.error}`)
  }
  if (error instanceof TypeError || (error as { name?: unknown })?.name === 'TimeoutError') return unreachable(endpoint.server, error)
  return new CLIFailure('SERVICE_UNAVAILABLE', `${endpoint.server} answered ${doing} with something unusable (${describe(error)})`)
}

function unreachable(server: string, error: unknown): CLIFailure {
  if ((error as { name?: unknown })?.name === 'TimeoutError') return new CLIFailure('SERVICE_UNAVAILABLE', `${server} did not answer in time`)
  return new CLIFailure('SERVICE_UNAVAILABLE', `Could not reach ${server} (${describe(error)}). Is the server running?`)
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown } } | undefined)?.cause
  if (typeof cause?.code === 'string') return cause.code === 'ECONNREFUSED' ? 'connection refused' : cause.code
  return error instanceof Error ? error.message.slice(0, 200) : String(error).slice(0, 200)
}
