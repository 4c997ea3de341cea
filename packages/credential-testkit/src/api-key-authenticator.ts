import { createHash, randomBytes } from 'node:crypto'
import { noCredential, type Authentication, type SessionAuthenticator, type SessionManager, type UserSession } from '@pikku/core'

/**
 * An API-key `SessionAuthenticator`, written as an app would write its own: the example that shows
 * one authenticator serving every protocol (an HTTP route through `createAuthenticatorMiddleware`,
 * a WebSocket upgrade, an MCP request). The tests of `@pikku/middleware-http-session`,
 * `@pikku/mcp-session` and the demo all use this one.
 *
 * A key is `pk_` followed by 43 base64url characters (256 random bits), sent as `X-Api-Key: <key>`
 * or `Authorization: ApiKey <key>`, or given as a bare token (a WebSocket subprotocol token, an
 * MCP stdio token) when it carries the prefix. It stands for either
 * - a fixed session (a service account): answered `transient`, nothing is stored per call; or
 * - a stored session, by id: answered `stored`, so revoking that session ends the key at once.
 */

export const API_KEY_PREFIX = 'pk_'
const KEY_SHAPE = /^pk_[A-Za-z0-9_-]{43}$/
// Anything longer is not a key: refused before any hashing.
const MAX_HEADER_LENGTH = 256

/** What one key grants. */
export type ApiKeyGrant = { readonly session: UserSession } | { readonly sessionId: string }

export interface ApiKeyAuthenticatorOptions {
  /** Keys and what each grants. Only their SHA-256 digests are kept. */
  keys: ReadonlyMap<string, ApiKeyGrant>
  /** Loads the stored sessions keys are bound to; needed when a grant names a `sessionId`. @default undefined */
  sessions?: SessionManager
}

/** A new random API key. */
export function generateApiKey(): string {
  return `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`
}

/**
 * The API key a request offers: `''` when one of its headers is present but says nothing usable
 * (refused as malformed), undefined when neither header is present or `Authorization` carries
 * another scheme (none of this authenticator's business). Both headers with different keys are
 * ambiguous: `null`.
 */
export function readApiKey(header: (name: string) => string | undefined): string | null | undefined {
  const direct = header('x-api-key')
  const fromAuthorization = readApiKeyScheme(header('authorization'))
  const key = direct === undefined ? undefined : direct.trim()
  if (key !== undefined && fromAuthorization !== undefined && key !== fromAuthorization) return null
  return key ?? fromAuthorization
}

/** The key of `Authorization: ApiKey <key>` (scheme matched case-insensitively), or undefined for another scheme. */
function readApiKeyScheme(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined
  const trimmed = authorization.trim()
  if (trimmed.slice(0, 6).toLowerCase() !== 'apikey') return undefined
  if (trimmed.length === 6) return ''
  const separator = trimmed.charCodeAt(6)
  if (separator !== 32 && separator !== 9) return undefined
  return trimmed.slice(7).trim()
}

const digestOf = (key: string): string => createHash('sha256').update(key).digest('base64url')

const refused = (reason: string): Authentication<never> => Object.freeze({ outcome: 'refused', credential: 'api-key', reason })
const MALFORMED = refused('malformed')
const AMBIGUOUS = refused('ambiguous')
const UNKNOWN_KEY = refused('unknown-key')
const UNKNOWN_SESSION = refused('unknown-session')

export function createApiKeyAuthenticator(options: ApiKeyAuthenticatorOptions): SessionAuthenticator<UserSession> {
  // Looked up by digest: timing can tell an attacker about digests of keys they chose, never about
  // the stored keys, and the table holds no key a memory dump could replay.
  const grants = new Map<string, ApiKeyGrant>()
  for (const [key, grant] of options.keys) {
    if (!KEY_SHAPE.test(key)) throw new TypeError(`createApiKeyAuthenticator: keys must look like generateApiKey() output (pk_ and 43 base64url characters)`)
    if ('sessionId' in grant && options.sessions === undefined) throw new TypeError('createApiKeyAuthenticator: a key bound to a stored session needs { sessions }')
    // Frozen, so the calls that share a service account's session cannot change it for each other.
    grants.set(digestOf(key), 'session' in grant ? { session: Object.freeze(structuredClone(grant.session)) } : grant)
  }

  const verify = async (key: string): Promise<Authentication<UserSession>> => {
    if (key.length > MAX_HEADER_LENGTH || !KEY_SHAPE.test(key)) return MALFORMED
    const grant = grants.get(digestOf(key))
    if (grant === undefined) return UNKNOWN_KEY
    if ('session' in grant) return { outcome: 'transient', credential: 'api-key', session: grant.session }
    const record = await options.sessions!.loadById(grant.sessionId)
    return record === undefined ? UNKNOWN_SESSION : { outcome: 'stored', credential: 'api-key', record }
  }

  return {
    cookieNames: [],
    async authenticate(input) {
      if (typeof input.header === 'function') {
        const key = readApiKey((name) => input.header!(name))
        if (key === undefined) return noCredential()
        if (key === null) return AMBIGUOUS
        return verify(key)
      }
      // A bare token is a key only when it says so: other tokens are left to other authenticators.
      return typeof input.token === 'string' && input.token.startsWith(API_KEY_PREFIX) ? verify(input.token) : noCredential()
    },
  }
}
