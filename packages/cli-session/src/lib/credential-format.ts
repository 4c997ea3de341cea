import type { OAuthCredential, StoredCredential } from './credential-store.js'

/** The version written into every credentials file; files with another version are refused. */
export const CREDENTIALS_FORMAT_VERSION = 1

/** Tokens go into an HTTP header: printable ASCII without spaces, and a sane length. */
const TOKEN_PATTERN = /^[\x21-\x7e]{1,8192}$/

export type CredentialParseResult =
  | { readonly ok: true; readonly credential: StoredCredential }
  | { readonly ok: false; readonly problem: 'empty' | 'not-json' | 'malformed' | 'unknown-version'; readonly detail: string }

/** Whether a string may be stored and sent as a token. */
export function isStorableToken(token: unknown): token is string {
  return typeof token === 'string' && TOKEN_PATTERN.test(token)
}

/**
 * Reads a credentials document (format version 1):
 *
 * ```json
 * { "version": 1, "origin": "http://127.0.0.1:3000", "token": "…", "savedAt": 1795000000000 }
 * ```
 *
 * An OAuth login adds `"oauth": { "clientId", "refreshToken", "expiresAt", "resource" }`; an
 * older release reading such a file ignores it and uses the access token until it expires.
 * `"user"` and `"userId"` name who logged in. `"storage": "keychain"` says the secrets are in the OS keychain; the file then holds the
 * placeholder `keychain` where the token and the refresh token would be.
 *
 * Pure and total: any input gives a result, never an exception.
 */
export function parseCredentials(bytes: Uint8Array): CredentialParseResult {
  if (bytes.length === 0) return { ok: false, problem: 'empty', detail: 'the file is empty' }
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    return { ok: false, problem: 'not-json', detail: 'the file is not UTF-8 text' }
  }
  if (text.trim() === '') return { ok: false, problem: 'empty', detail: 'the file holds only whitespace' }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    return { ok: false, problem: 'not-json', detail: `not valid JSON (${describeJSONError(error, text)})` }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, problem: 'malformed', detail: `expected a JSON object, found ${jsonKind(value)}` }
  }
  const document = value as Record<string, unknown>
  const version = document['version']
  if (version === undefined) return { ok: false, problem: 'malformed', detail: 'it has no "version" field' }
  if (version !== CREDENTIALS_FORMAT_VERSION) {
    const shown = typeof version === 'number' || typeof version === 'string' ? JSON.stringify(version).slice(0, 40) : jsonKind(version)
    return { ok: false, problem: 'unknown-version', detail: `format version ${shown}; this release reads version ${CREDENTIALS_FORMAT_VERSION}` }
  }
  const origin = document['origin']
  if (typeof origin !== 'string' || origin.length === 0 || origin.length > 2048) {
    return { ok: false, problem: 'malformed', detail: 'the "origin" field is missing or not a string' }
  }
  const token = document['token']
  if (!isStorableToken(token)) {
    return { ok: false, problem: 'malformed', detail: 'the "token" field is missing or malformed' }
  }
  const savedAt = document['savedAt']
  if (typeof savedAt !== 'number' || !Number.isFinite(savedAt)) {
    return { ok: false, problem: 'malformed', detail: 'the "savedAt" field is missing or not a number' }
  }
  const storage = document['storage']
  if (storage !== undefined && storage !== 'keychain') return { ok: false, problem: 'malformed', detail: 'the "storage" field is not "keychain"' }
  const user = document['user']
  if (user !== undefined && (typeof user !== 'string' || user.length === 0 || user.length > 256)) return { ok: false, problem: 'malformed', detail: 'the "user" field is not a name' }
  const userId = document['userId']
  if (userId !== undefined && (typeof userId !== 'string' || userId.length === 0 || userId.length > 256)) return { ok: false, problem: 'malformed', detail: 'the "userId" field is not an id' }
  const where = { ...(storage === undefined ? {} : { storage: 'keychain' as const }), ...(user === undefined ? {} : { user }), ...(userId === undefined ? {} : { userId }) }
  const oauth = document['oauth']
  if (oauth === undefined) return { ok: true, credential: { origin, token, savedAt, ...where } }
  const parsedOAuth = parseOAuth(oauth)
  if (parsedOAuth === undefined) return { ok: false, problem: 'malformed', detail: 'the "oauth" field is malformed' }
  return { ok: true, credential: { origin, token, savedAt, oauth: parsedOAuth, ...where } }
}

function parseOAuth(value: unknown): OAuthCredential | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
  const fields = value as Record<string, unknown>
  const { clientId, refreshToken, expiresAt, resource } = fields
  if (typeof clientId !== 'string' || clientId.length === 0 || clientId.length > 2048) return undefined
  if (!isStorableToken(refreshToken)) return undefined
  if (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt)) return undefined
  if (typeof resource !== 'string' || resource.length === 0 || resource.length > 2048) return undefined
  return { clientId, refreshToken, expiresAt, resource }
}

/** The file content for a credential (pretty-printed, so a person can inspect it). */
export function serializeCredentials(credential: StoredCredential): string {
  if (!isStorableToken(credential.token)) {
    throw new TypeError('a credential token must be 1 to 8192 printable ASCII characters without spaces')
  }
  const document = {
    version: CREDENTIALS_FORMAT_VERSION,
    origin: credential.origin,
    token: credential.token,
    savedAt: credential.savedAt,
    ...(credential.storage === undefined ? {} : { storage: credential.storage }),
    ...(credential.user === undefined ? {} : { user: credential.user }),
    ...(credential.userId === undefined ? {} : { userId: credential.userId }),
    ...(credential.oauth === undefined
      ? {}
      : { oauth: { clientId: credential.oauth.clientId, refreshToken: credential.oauth.refreshToken, expiresAt: credential.oauth.expiresAt, resource: credential.oauth.resource } }),
  }
  return `${JSON.stringify(document, null, 2)}\n`
}

function jsonKind(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return `a ${typeof value}`
}

function describeJSONError(error: unknown, text: string): string {
  const message = error instanceof Error ? error.message : String(error)
  // V8's messages quote the input; none of it is repeated, so a token fragment never reaches a log.
  const position = /position (\d+)/.exec(message)
  const at = position === null ? undefined : Number(position[1])
  if (/end of (JSON|data)|Unterminated string/i.test(message) || (at !== undefined && at >= text.trimEnd().length)) {
    return 'it ends too early: the file is truncated'
  }
  return at === undefined ? 'unexpected content' : `unexpected content at character ${at}`
}
