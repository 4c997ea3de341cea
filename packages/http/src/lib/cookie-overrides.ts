/**
 * What a browser would send after receiving some `Set-Cookie` headers: a request session that
 * stored a login loads its next change through the new cookie, not the request's old one.
 */

/** Cookie name to its new value, or `undefined` for a cookie the response deleted. */
export type CookieOverrides = Map<string, string | undefined>

/**
 * Records what one `Set-Cookie` value does: sets `name` to its value, or deletes it when
 * `Max-Age` is zero or less or `Expires` is in the past (RFC 6265 section 5.3). A value without a
 * `name=` part is ignored, as browsers ignore it.
 */
export function recordSetCookie(overrides: CookieOverrides, setCookie: string, now: number): void {
  const end = setCookie.indexOf(';')
  const pair = end === -1 ? setCookie : setCookie.slice(0, end)
  const equals = pair.indexOf('=')
  if (equals === -1) return
  const name = pair.slice(0, equals).trim()
  if (name.length === 0) return
  const value = pair.slice(equals + 1).trim()
  let expired = false
  if (end !== -1) {
    for (const attribute of setCookie.slice(end + 1).split(';')) {
      const separator = attribute.indexOf('=')
      if (separator === -1) continue
      const key = attribute.slice(0, separator).trim().toLowerCase()
      const raw = attribute.slice(separator + 1).trim()
      if (key === 'max-age') {
        // Max-Age wins over Expires whatever their order (RFC 6265 section 5.3, step 3).
        if (/^-?\d+$/.test(raw)) {
          expired = Number(raw) <= 0
          break
        }
      } else if (key === 'expires') {
        const time = Date.parse(raw)
        if (!Number.isNaN(time)) expired = time <= now
      }
    }
  }
  overrides.set(name, expired ? undefined : value)
}

/**
 * A `Cookie` request header with the overridden cookies replaced (or removed) and every other
 * cookie kept as it was sent. Undefined when no cookie is left.
 */
export function applyCookieOverrides(cookieHeader: string | undefined, overrides: CookieOverrides): string | undefined {
  if (overrides.size === 0) return cookieHeader
  const kept: string[] = []
  if (cookieHeader !== undefined) {
    for (const piece of cookieHeader.split(';')) {
      const trimmed = piece.trim()
      if (trimmed.length === 0) continue
      const equals = trimmed.indexOf('=')
      const name = (equals === -1 ? trimmed : trimmed.slice(0, equals)).trim()
      if (!overrides.has(name)) kept.push(trimmed)
    }
  }
  for (const [name, value] of overrides) if (value !== undefined) kept.push(`${name}=${value}`)
  return kept.length === 0 ? undefined : kept.join('; ')
}
