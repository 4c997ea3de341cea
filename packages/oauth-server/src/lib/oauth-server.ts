import { generateKeyPairSync } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import {
  type CoreUserSession,
  type Logger,
  type SessionAuthenticator,
  ServiceUnavailableError,
  silentLogger,
  STORE_UNAVAILABLE_MESSAGE,
  type UserSession,
} from '@pikku/core'
import { createNamespacedStore } from '@pikku/core/protocol'
import Provider, { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider'
import { createAccessTokenAuthenticator } from './access-token-authenticator.js'
import { createClientResolver } from './client-resolver.js'
import { deviceFlowFeature } from './device-flow.js'
import { createGrantSessions } from './grant-sessions.js'
import { asProviderOutage, guardStoreErrors, TEMPORARILY_UNAVAILABLE } from './guarded-store.js'
import { createInteractions, defaultUserLabel, INTERACTION_PATH } from './interactions.js'
import { redirectsAreNative } from './loopback.js'
import { MCP_TOOLS_SCOPE, type OAuthServerOptions, resolveOAuthServerOptions } from './options.js'
import { errorPageHtml, sendPage } from './pages.js'
import { createStoreAdapterFactory } from './store-adapter.js'

const OPAQUE_TOKEN_BITS = 264

/** Where RFC 8414 puts an issuer's metadata (for an issuer without a path). */
export const AUTHORIZATION_SERVER_METADATA_PATH = '/.well-known/oauth-authorization-server'

const ROUTES = {
  authorization: '/oauth/authorize',
  token: '/oauth/token',
  registration: '/oauth/register',
  revocation: '/oauth/revoke',
  jwks: '/oauth/jwks',
  end_session: '/oauth/logout',
  userinfo: '/oauth/userinfo',
  introspection: '/oauth/introspect',
  device_authorization: '/oauth/device/auth',
  code_verification: '/oauth/device',
  pushed_authorization_request: '/oauth/par',
  backchannel_authentication: '/oauth/backchannel',
} as const

export interface OAuthServer<S extends CoreUserSession = UserSession> {
  /**
   * Serves the authorization server (`/.well-known/oauth-authorization-server`, `/oauth/*`).
   * Resolves false, without touching the response, for any other path, so it can be mounted in
   * front of the app's routes.
   */
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>
  /**
   * Verifies `Authorization: Bearer <access token>` for the resource: the grant's user session as
   * a `stored` authentication with credential `oauth`, `refused` for a token that is unknown,
   * expired, revoked or for another audience, `none` without a bearer token.
   */
  readonly authenticator: SessionAuthenticator<S>
  /** The issuer, as listed in the protected resource's metadata (`authorization_servers`). */
  readonly issuer: string
  /** The (first) resource the tokens are for. */
  readonly resource: string
  /** The authenticator of another of the server's resources. */
  authenticatorFor(resource: string): SessionAuthenticator<S>
  /** The scopes clients may ask for (`scopes_supported` of the protected-resource metadata). */
  readonly scopesSupported: readonly string[]
  /** The client a grant session belongs to (its id and name), for a session inventory. */
  clientOfSession(sessionId: string): Promise<{ readonly clientId: string; readonly clientName: string } | undefined>
}

/**
 * An OAuth 2.1 authorization server for the app's MCP endpoint, on `oidc-provider`, whose every
 * grant is a user session in the app's session store (see decision 022).
 */
export function createOAuthServer<S extends CoreUserSession = UserSession>(options: OAuthServerOptions<S>): OAuthServer<S> {
  const resolved = resolveOAuthServerOptions(options)
  const { sessions, signIn } = options
  const userLabel = signIn.userLabel ?? defaultUserLabel
  const logger: Logger = options.logger ?? silentLogger
  const clock = options.clock ?? sessions.clock
  // OAuth state lives beside user sessions, never among them.
  const oauthStore = guardStoreErrors(createNamespacedStore<never>(sessions.store, 'oauth'), logger)
  const grants = createGrantSessions<S>(sessions, oauthStore)
  const findDocumentClient = createClientResolver({
    ...resolved.documents,
    allowPrivateAddresses: resolved.development,
    development: resolved.development,
    clock,
    logger,
  })
  const adapter = createStoreAdapterFactory(oauthStore, clock, (grantId) => grants.end(grantId), findDocumentClient, resolved.registrationTtl * 1000)
  const scopes = [...resolved.scopes.keys()]
  const absoluteSeconds = Math.floor(sessions.absoluteTimeout / 1000)

  const configuration: Configuration = {
    adapter,
    clients: [],
    // Signs ID tokens only, which MCP clients do not ask for (no openid scope); access tokens are
    // opaque and live in the store, so servers need not share this key.
    jwks: { keys: [generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }) as never] },
    routes: ROUTES,
    // 264 bits: 44 characters, a shape no core session token has (43), so the access-token
    // authenticator can tell its tokens from others without a store read.
    formats: { bitsOfOpaqueRandomness: OPAQUE_TOKEN_BITS },
    // Listed so that a client may name them in its registration; the consent grants them both as
    // the resource's scopes (what access tokens carry) and here (what the provider checks).
    scopes: ['openid', 'offline_access', 'profile', ...scopes],
    // A client that asks for `openid` (the CLI does, to name its accounts) gets an ID token with
    // the user id, and with `profile` the name the consent page shows. The userinfo endpoint
    // stays off, so these claims are in the ID token itself.
    claims: { openid: ['sub'], profile: ['preferred_username'] },
    responseTypes: ['code'],
    clientAuthMethods: ['none'],
    clientDefaults: {
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      id_token_signed_response_alg: 'ES256',
    },
    cookies: { keys: [...options.secrets], long: { signed: true }, short: { signed: true, path: '/' } },
    pkce: { required: () => true },
    // Every authorization is a new grant (a new session), approved on the consent page: only the
    // grant this very consent created is used, never one remembered from an earlier visit.
    loadExistingGrant: (ctx) => {
      const grantId = ctx.oidc.result?.consent?.grantId
      return typeof grantId === 'string' ? ctx.oidc.provider.Grant.find(grantId) : undefined
    },
    issueRefreshToken: (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    // The grant's session id, kept with each access token (opaque tokens store these claims
    // server-side; nothing reaches the client), so verifying a token needs no grant lookup.
    // The first token of a grant starts its session; a later one (a refresh) is refused once the
    // session has ended (revoked, logged out everywhere, timed out).
    extraTokenClaims: (_ctx, token) =>
      asProviderOutage(async () => {
        const grantId = (token as { grantId?: unknown }).grantId
        const sid = typeof grantId === 'string' ? await grants.sessionIdOf(grantId) : undefined
        if (sid === undefined || (await sessions.loadById(sid)) === undefined) {
          throw new errors.InvalidGrant('the session of this grant has ended; authorize again')
        }
        return { sid }
      }),
    rotateRefreshToken: true,
    // Revoking any token of a grant ends the grant and its session: a client's "sign out".
    revokeGrantPolicy: () => true,
    ttl: {
      AccessToken: resolved.accessTokenTtl,
      AuthorizationCode: 60,
      // Ten minutes to walk to another device, sign in and type the code (RFC 8628 leaves it to the server).
      DeviceCode: 600,
      Interaction: 600,
      Session: 600,
      Grant: absoluteSeconds,
      RefreshToken: absoluteSeconds,
    },
    extraClientMetadata: {
      // Not a property clients send: its validator runs for every registration, and it is where a
      // client whose redirect URIs are all loopback or private-use schemes becomes a native app
      // (RFC 8252), whose loopback redirect URIs match on any port.
      properties: ['pikku_application_type'],
      validator(_ctx, key, _value, metadata) {
        // The schema has already defaulted application_type to web; a "web" client whose every
        // redirect URI is on loopback or a private-use scheme runs on the user's machine.
        if (key === 'pikku_application_type' && Array.isArray(metadata.redirect_uris) && redirectsAreNative(metadata.redirect_uris as string[])) {
          metadata.application_type = 'native'
        }
      },
    },
    features: {
      devInteractions: { enabled: false },
      registration: { enabled: options.registration ?? true, initialAccessToken: false, idFactory: undefined },
      revocation: { enabled: true },
      introspection: { enabled: false },
      userinfo: { enabled: false },
      rpInitiatedLogout: { enabled: false },
      // RFC 8628, for CLIs on machines without a browser (`app login --device`).
      deviceFlow: resolved.deviceFlow ? deviceFlowFeature() : { enabled: false },
      resourceIndicators: {
        enabled: true,
        // RFC 8707 as MCP asks for it: both requests name the resource, and it must be ours.
        defaultResource: () => {
          throw new errors.InvalidTarget(`resource is required: pass resource=${resolved.resources[0]}`)
        },
        useGrantedResource: () => false,
        getResourceServerInfo: (_ctx, resourceIndicator) => {
          if (!resolved.resources.includes(resourceIndicator)) {
            throw new errors.InvalidTarget(`this server issues tokens only for ${resolved.resources.join(', ')}`)
          }
          return { scope: scopes.join(' '), audience: resourceIndicator, accessTokenFormat: 'opaque', accessTokenTTL: resolved.accessTokenTtl }
        },
      },
    },
    discovery: {
      client_id_metadata_document_supported: true,
      service_documentation: undefined,
    },
    interactions: {
      url: (_ctx, interaction) => `${INTERACTION_PATH}${interaction.uid}`,
    },
    findAccount: async (_ctx, sub, token) => {
      // Only when an ID token is made for a grant (a token names it): its user's label, read from
      // the grant's user session, and only while that session is the subject's.
      const grantId = (token as { grantId?: unknown } | undefined)?.grantId
      const user = typeof grantId === 'string' ? await asProviderOutage(() => grants.userOf(grantId)) : undefined
      const label = user !== undefined && user.userId === sub ? userLabel(user) : undefined
      return { accountId: sub, claims: () => ({ sub, ...(label === undefined ? {} : { preferred_username: label }) }) }
    },
    // Browser clients (the MCP Inspector) call the token, registration and revocation endpoints
    // cross-origin; they hold no cookies there, and every token request is bound by PKCE.
    clientBasedCORS: () => true,
    renderError: (ctx, out) => {
      ctx.type = 'html'
      ctx.set('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
      ctx.set('x-frame-options', 'DENY')
      ctx.set('cache-control', 'no-store')
      ctx.body = errorPageHtml(String(out['error']), out['error_description'] === undefined ? undefined : String(out['error_description']))
    },
  }
  const provider = new Provider(resolved.issuer.origin, configuration)
  provider.proxy = options.trustProxy ?? false
  provider.on('server_error', (_ctx: KoaContextWithOIDC, error: Error) => logger.error('OAuth server error', { error }))
  const callback = provider.callback()
  const interactions = createInteractions(provider, resolved, signIn, options.secrets, grants)
  const ownPaths = new Set<string>([...Object.values(ROUTES), AUTHORIZATION_SERVER_METADATA_PATH, '/.well-known/openid-configuration'])

  const authenticators = new Map(resolved.resources.map((resource) => [resource, createAccessTokenAuthenticator(provider, resource, sessions)]))

  return {
    issuer: resolved.issuer.origin,
    resource: resolved.resources[0] as string,
    scopesSupported: scopes,
    authenticator: authenticators.get(resolved.resources[0] as string) as SessionAuthenticator<S>,
    authenticatorFor(resource) {
      const found = authenticators.get(resource)
      if (found === undefined) throw new TypeError(`authenticatorFor: ${resource} is not one of the server's resources (${resolved.resources.join(', ')})`)
      return found
    },
    clientOfSession: (sessionId) => grants.clientOfSession(sessionId),
    async handle(req, res) {
      const path = (req.url ?? '/').split('?', 1)[0] as string
      if (path.startsWith(INTERACTION_PATH)) {
        const uid = path.slice(INTERACTION_PATH.length)
        if (!/^[A-Za-z0-9_-]{1,64}$/.test(uid)) {
          sendPage(res, 404, 'Not found', errorPageHtml('invalid_request', 'No such sign-in request'))
          return true
        }
        try {
          await interactions(req, res, uid)
        } catch (error) {
          const outage = error instanceof ServiceUnavailableError || (error as { error?: unknown }).error === TEMPORARILY_UNAVAILABLE
          if (!outage) throw error
          if (!res.headersSent) sendPage(res, 503, 'Try again shortly', errorPageHtml(TEMPORARILY_UNAVAILABLE, STORE_UNAVAILABLE_MESSAGE))
          else res.end()
        }
        return true
      }
      // The provider also answers below two routes: the authorization resume after the consent
      // step (`/oauth/authorize/<uid>`) and registration management.
      if (!ownPaths.has(path) && !path.startsWith(`${ROUTES.authorization}/`) && !path.startsWith(`${ROUTES.registration}/`) && !path.startsWith(`${ROUTES.code_verification}/`)) return false
      if (path === ROUTES.authorization && req.method === 'GET') req.url = withDefaultScope(req.url ?? path)
      // The code-entry and confirmation forms: the provider checks its own CSRF token; a post
      // from another site is refused before that, as the consent form's is.
      if (path === ROUTES.code_verification && req.method === 'POST' && isCrossSite(req, resolved.issuer.origin)) {
        sendPage(res, 403, 'Refused', errorPageHtml('access_denied', 'This code was not entered on this site'))
        return true
      }
      await new Promise<void>((resolve) => {
        res.once('close', resolve)
        res.once('finish', resolve)
        callback(req, res)
      })
      return true
    },
  }
}

function isCrossSite(req: IncomingMessage, ownOrigin: string): boolean {
  const origin = req.headers['origin']
  const fetchSite = req.headers['sec-fetch-site']
  return (origin !== undefined && origin !== ownOrigin) || (fetchSite !== undefined && fetchSite !== 'same-origin')
}

/**
 * An authorization request that names no scope asks for `mcp:tools`: MCP clients that found no
 * scope in the challenge or the resource metadata send none, and a grant must hold at least one
 * scope for the provider to issue a token.
 */
function withDefaultScope(url: string): string {
  const query = url.indexOf('?')
  if (query === -1) return url
  const params = new URLSearchParams(url.slice(query + 1))
  if ((params.get('scope') ?? '').trim() !== '') return url
  params.set('scope', MCP_TOOLS_SCOPE)
  return `${url.slice(0, query)}?${params.toString()}`
}
