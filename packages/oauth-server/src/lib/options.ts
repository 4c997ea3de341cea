import type { Clock, CoreUserSession, Logger, SessionAuthenticator, SessionManager, UserSession } from '@pikku/core'
import { isLoopbackHost } from './loopback.js'

/** The scope every MCP client asks for: calling the app's tools as the user. */
export const MCP_TOOLS_SCOPE = 'mcp:tools'

export interface OAuthServerOptions<S extends CoreUserSession = UserSession> {
  /**
   * The authorization server's issuer: the app's own origin (`https://app.example.com`), under
   * which the server answers `/.well-known/oauth-authorization-server` and `/oauth/*`. No path,
   * query or trailing slash.
   */
  issuer: string
  /**
   * The protected resource the tokens are for (RFC 8707): the MCP endpoint's URL, e.g.
   * `https://app.example.com/mcp`, or several. A `resource` not listed is refused, and each access
   * token is bound to the one its client named.
   */
  resource: string | readonly string[]
  /** The app's session manager: every grant is one of its sessions. */
  sessions: SessionManager<S>
  /** How a browser proves who the user is: the app's own sign-in. */
  signIn: OAuthSignInOptions<S>
  /**
   * Secrets for the server's cookies and consent-form CSRF tokens, newest first (older ones are
   * still accepted while they are listed, for rotation). Each at least 32 characters; the same on
   * every server sharing the store.
   */
  secrets: readonly string[]
  /**
   * The scopes clients may ask for, with the description the consent page shows. `mcp:tools` is
   * always offered. Map your own scopes to functions with `requireScope` permission guards.
   * @default { 'mcp:tools': 'Use the app's tools as you' }
   */
  scopes?: Readonly<Record<string, string>>
  /** Name of the resource on the consent page. @default the resource URL's host */
  resourceName?: string
  /**
   * Development mode: plain-http loopback client ids (`http://127.0.0.1:<port>/…`) are accepted as
   * client metadata documents, and fetching them may reach loopback and private addresses.
   * @default true when `issuer` is plain http on a loopback host, false otherwise
   */
  development?: boolean
  /** Client ID Metadata Documents: clients whose `client_id` is an HTTPS URL. */
  clientMetadataDocuments?: ClientMetadataDocumentOptions
  /**
   * Dynamic client registration (RFC 7591) at `/oauth/register`, for clients without a metadata
   * document. Registered clients are public (no secret) and kept in the session store.
   * @default true
   */
  registration?: boolean
  /**
   * How long a dynamically registered client is kept, in seconds. Registration needs no
   * credential, so registered clients must not pile up for good; a client whose registration
   * expired gets `invalid_client` and registers again (the MCP SDK's client does this itself).
   * @default 2_592_000 (30 days), and never less than the sessions' absolute timeout
   */
  registrationTtl?: number
  /**
   * The device authorization grant (RFC 8628) for CLIs without a browser: `/oauth/device/auth`
   * hands out a user code, which the user enters at `/oauth/device`, then signs in and approves
   * as in the code flow.
   * @default true
   */
  deviceFlow?: boolean
  /**
   * Access-token lifetime in seconds. Short, because clients refresh; the grant's session is
   * checked on every use anyway.
   * @default 3600
   */
  accessTokenTtl?: number
  /**
   * Trust `X-Forwarded-Proto`/`X-Forwarded-Host` from a reverse proxy in front of the server.
   * @default false
   */
  trustProxy?: boolean
  /** @default sessions.clock */
  clock?: Clock
  /** @default a silent logger */
  logger?: Logger
}

/** The app's sign-in, as the authorization endpoint uses it. */
export interface OAuthSignInOptions<S extends CoreUserSession = UserSession> {
  /**
   * Reads the signed-in user from a browser request (the app's session cookie). Only cookie
   * sessions count: a bearer token never signs a browser in.
   */
  authenticator: SessionAuthenticator<S>
  /**
   * Where to send a browser that is not signed in; it must come back to `returnTo` (a path on this
   * origin) after signing in.
   */
  loginUrl: (returnTo: string) => string
  /** How the consent page names the user. @default the session's `email`, `name` or `userId` */
  userLabel?: (session: S) => string
}

export interface ClientMetadataDocumentOptions {
  /** Largest document accepted, in bytes. @default 5120 */
  maxBytes?: number
  /** Longest a fetch may take, in ms. @default 5000 */
  timeoutMs?: number
  /** How long a fetched document is trusted before it is fetched again, in ms. @default 300_000 */
  cacheTtlMs?: number
  /** How many documents are cached in memory per process. @default 1000 */
  maxCachedClients?: number
}

export interface ResolvedOAuthServerOptions {
  readonly issuer: URL
  readonly resources: readonly string[]
  readonly scopes: ReadonlyMap<string, string>
  readonly development: boolean
  readonly resourceName: string
  readonly documents: Required<ClientMetadataDocumentOptions>
  readonly accessTokenTtl: number
  readonly registrationTtl: number
  readonly deviceFlow: boolean
}

const WHERE = 'createOAuthServer'

/** Checks the options once, when the factory is called, with messages that say what to change. */
export function resolveOAuthServerOptions<S extends CoreUserSession>(options: OAuthServerOptions<S>): ResolvedOAuthServerOptions {
  if (options === null || typeof options !== 'object') throw new TypeError(`${WHERE} needs an options object`)
  const issuer = parseUrl(options.issuer, 'issuer')
  if (issuer.pathname !== '/' || issuer.search !== '' || options.issuer.endsWith('/')) {
    throw new TypeError(`${WHERE}: issuer must be an origin without a path or trailing slash, like https://app.example.com; got ${options.issuer}`)
  }
  const resources = typeof options.resource === 'string' ? [options.resource] : options.resource
  if (!Array.isArray(resources) || resources.length === 0) throw new TypeError(`${WHERE} needs { resource }: the MCP endpoint's URL, like https://app.example.com/mcp`)
  for (const value of resources) {
    if (parseUrl(value, 'resource').hash !== '') throw new TypeError(`${WHERE}: resource must not have a fragment; got ${value}`)
  }
  const resource = new URL(resources[0] as string)
  const loopbackIssuer = issuer.protocol === 'http:' && isLoopbackHost(issuer.hostname)
  if (issuer.protocol !== 'https:' && !loopbackIssuer) {
    throw new TypeError(`${WHERE}: issuer must be https (plain http only on localhost or 127.0.0.1 for development); got ${options.issuer}`)
  }
  const sessions = options.sessions
  if (sessions === undefined || typeof sessions.commit !== 'function' || typeof sessions.loadById !== 'function') {
    throw new TypeError(`${WHERE} needs { sessions }: the app's session manager from createSessionManager`)
  }
  const signIn = options.signIn
  if (signIn === undefined || typeof signIn.authenticator?.authenticate !== 'function' || typeof signIn.loginUrl !== 'function') {
    throw new TypeError(`${WHERE} needs { signIn: { authenticator, loginUrl } }: the app's cookie sign-in and where its login page is`)
  }
  if (!Array.isArray(options.secrets) || options.secrets.length === 0) {
    throw new TypeError(`${WHERE} needs { secrets: [...] }: at least one secret of 32 or more characters`)
  }
  for (const [index, secret] of options.secrets.entries()) {
    if (typeof secret !== 'string' || secret.length < 32) {
      throw new TypeError(`${WHERE}: secrets[${index}] must be a string of at least 32 characters; got ${typeof secret === 'string' ? `${secret.length} characters` : typeof secret}`)
    }
  }
  const scopes = new Map<string, string>([[MCP_TOOLS_SCOPE, "Use the app's tools as you"]])
  for (const [name, description] of Object.entries(options.scopes ?? {})) {
    if (!/^[\x21\x23-\x5B\x5D-\x7E]{1,64}$/.test(name)) {
      throw new TypeError(`${WHERE}: scope names are 1 to 64 printable characters without spaces, quotes or backslashes; got ${JSON.stringify(name)}`)
    }
    if (name === 'openid' || name === 'offline_access') throw new TypeError(`${WHERE}: ${name} is an OpenID Connect scope, not an app scope`)
    if (typeof description !== 'string' || description.length === 0) throw new TypeError(`${WHERE}: scopes['${name}'] needs a description for the consent page`)
    scopes.set(name, description)
  }
  const documents = {
    maxBytes: positive(options.clientMetadataDocuments?.maxBytes ?? 5120, 'clientMetadataDocuments.maxBytes'),
    timeoutMs: positive(options.clientMetadataDocuments?.timeoutMs ?? 5000, 'clientMetadataDocuments.timeoutMs'),
    cacheTtlMs: positive(options.clientMetadataDocuments?.cacheTtlMs ?? 300_000, 'clientMetadataDocuments.cacheTtlMs'),
    maxCachedClients: positive(options.clientMetadataDocuments?.maxCachedClients ?? 1000, 'clientMetadataDocuments.maxCachedClients'),
  }
  const accessTokenTtl = positive(options.accessTokenTtl ?? 3600, 'accessTokenTtl')
  const absoluteSeconds = Math.ceil(sessions.absoluteTimeout / 1000)
  const registrationTtl = positive(options.registrationTtl ?? Math.max(30 * 24 * 60 * 60, absoluteSeconds), 'registrationTtl')
  if (registrationTtl < absoluteSeconds) {
    throw new RangeError(`${WHERE}: registrationTtl (${registrationTtl} s) must be at least the sessions' absolute timeout (${absoluteSeconds} s), or clients would have to register again within one session's lifetime`)
  }
  if (options.development !== undefined && typeof options.development !== 'boolean') throw new TypeError(`${WHERE}: development must be true or false`)
  if (options.development === true && !loopbackIssuer) {
    throw new TypeError(`${WHERE}: development mode needs a plain-http loopback issuer (http://127.0.0.1:<port>); it would let client ids reach private addresses`)
  }
  return {
    issuer,
    resources: [...resources],
    scopes,
    development: options.development ?? loopbackIssuer,
    resourceName: options.resourceName ?? resource.host,
    documents,
    accessTokenTtl,
    registrationTtl,
    deviceFlow: options.deviceFlow ?? true,
  }
}

function parseUrl(value: unknown, name: string): URL {
  if (typeof value !== 'string' || !URL.canParse(value)) throw new TypeError(`${WHERE}: ${name} must be an absolute URL; got ${JSON.stringify(value)}`)
  return new URL(value)
}

function positive(value: number, name: string): number {
  if (!Number.isInteger(value) || value <= 0) throw new RangeError(`${WHERE}: ${name} must be a positive whole number; got ${value}`)
  return value
}
