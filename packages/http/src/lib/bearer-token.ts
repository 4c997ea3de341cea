/** Longest bearer token considered; anything longer is rejected before any parsing or crypto. */
export const MAX_BEARER_LENGTH = 8192

/**
 * The token of an `Authorization: Bearer <token>` header (scheme matched case-insensitively,
 * RFC 7235 §2.1). Returns undefined for any other scheme, which callers ignore, and '' for a
 * bearer header without a token, which counts as a rejected token. Every protocol that accepts
 * bearer tokens (HTTP, WebSocket upgrades, MCP) reads them with this one function.
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
