/** `WWW-Authenticate` for a 401 when no bearer token was offered. */
export const BEARER_CHALLENGE = 'Bearer'
/** `WWW-Authenticate` for a 401 after a bearer token was offered and rejected (RFC 6750 §3.1). */
export const INVALID_TOKEN_CHALLENGE = 'Bearer error="invalid_token", error_description="The access token is invalid, expired or revoked"'

/** Longest bearer token considered; anything longer is rejected before any parsing or crypto. */
export const MAX_BEARER_LENGTH = 8192

/**
 * The token of an `Authorization: Bearer <token>` header (scheme matched case-insensitively,
 * RFC 7235 §2.1). Returns undefined for any other scheme, which callers ignore, and '' for a
 * bearer header without a token, which counts as a rejected token.
 */
export function readBearerToken(authorization: string): string | undefined {
  let start = 0
  while (authorization.charCodeAt(start) === 32) start++
  if (authorization.length - start < 6) return undefined
  if (authorization.slice(start, start + 6).toLowerCase() !== 'bearer') return undefined
  if (authorization.length === start + 6) return ''
  const separator = authorization.charCodeAt(start + 6)
  if (separator !== 32 && separator !== 9) return undefined
  return authorization.slice(start + 7).trim()
}

export function isUnauthorized(error: unknown): boolean {
  // Duck-typed on the code: the error may come from any copy of core a plugin bundled.
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'UNAUTHORIZED'
}
