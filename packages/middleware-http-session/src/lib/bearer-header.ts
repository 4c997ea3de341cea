/** `WWW-Authenticate` for a 401 when no bearer token was offered. */
export const BEARER_CHALLENGE = 'Bearer'
/** `WWW-Authenticate` for a 401 after a bearer token was offered and rejected (RFC 6750 §3.1). */
export const INVALID_TOKEN_CHALLENGE = 'Bearer error="invalid_token", error_description="The access token is invalid, expired or revoked"'

export { MAX_BEARER_LENGTH, readBearerToken } from '@pikku/http'

export function isUnauthorized(error: unknown): boolean {
  // Duck-typed on the code: the error may come from any copy of core a plugin bundled.
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'UNAUTHORIZED'
}
