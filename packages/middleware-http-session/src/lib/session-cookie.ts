import type { Logger } from '@pikku/core'
import { parseCookie, stringifySetCookie } from 'cookie'

/**
 * The most a browser is required to keep of one cookie (RFC 6265 §6.1), counting name, value and
 * attributes. Larger cookies are silently dropped by some browsers, which looks like a logout.
 */
export const COOKIE_SIZE_LIMIT = 4096

export interface CookieSessionOptions {
  /**
   * The cookie name. With `hostPrefix` it is sent as `__Host-<name>`.
   * @default 'pikku-session'
   */
  name?: string
  /**
   * Prefix the name with `__Host-`: browsers then accept the cookie only when it is Secure, has
   * Path=/ and no Domain, so a sibling subdomain cannot plant or overwrite it. Recommended in
   * production.
   * @default false
   */
  hostPrefix?: boolean
  /**
   * Send the cookie over HTTPS only. Turn off only for development on http://localhost; doing so
   * logs a warning when the strategy is created.
   * @default true
   */
  secure?: boolean
  /**
   * @default 'lax'
   */
  sameSite?: 'lax' | 'strict' | 'none'
  /** @default '/' */
  path?: string
  /**
   * Share the cookie with subdomains of this domain. Leave unset (host-only) unless you need it.
   * @default undefined
   */
  domain?: string
  /**
   * Give the cookie a Max-Age (the session's absolute expiry), so it survives a browser restart.
   * When false the cookie ends with the browser session; the server-side timeouts apply either way.
   * @default true
   */
  persistent?: boolean
  /**
   * On logout also send `Clear-Site-Data: "cookies"`, which makes the browser drop every cookie of
   * the origin (not only the session cookie).
   * @default false
   */
  clearSiteData?: boolean
}

/** Cookie settings resolved and validated once, at creation. */
export interface SessionCookie {
  readonly name: string
  readonly persistent: boolean
  readonly clearSiteData: boolean
  /** The token (cookie value) from a `Cookie` header; undefined when absent or the header is malformed. */
  read(cookieHeader: string | undefined): string | undefined
  /** A `Set-Cookie` value storing `value`; `maxAge` in seconds, or undefined for a browser-session cookie. */
  serialize(value: string, maxAge: number | undefined): string
  /** A `Set-Cookie` value that makes the browser delete the cookie. */
  readonly expired: string
}

// RFC 6265 cookie-name: an HTTP token.
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
const HOST_PREFIX = '__Host-'

/**
 * Resolves cookie options. `where` names the option in error messages. Throws for combinations a
 * browser would reject, so the mistake shows at start-up rather than as a cookie that never sticks.
 */
export function resolveSessionCookie(options: CookieSessionOptions, where: string, logger: Logger): SessionCookie {
  const baseName = options.name ?? 'pikku-session'
  if (!TOKEN.test(baseName)) {
    throw new TypeError(`${where}.name must be a cookie name (letters, digits and !#$%&'*+.^_\`|~-); got ${JSON.stringify(baseName)}`)
  }
  const hostPrefix = options.hostPrefix ?? false
  const secure = options.secure ?? true
  const sameSite = options.sameSite ?? 'lax'
  const path = options.path ?? '/'
  const domain = options.domain
  if (!['lax', 'strict', 'none'].includes(sameSite)) {
    throw new TypeError(`${where}.sameSite must be 'lax', 'strict' or 'none'; got ${JSON.stringify(sameSite)}`)
  }
  if (typeof path !== 'string' || !path.startsWith('/') || /[;\s]/.test(path)) {
    throw new TypeError(`${where}.path must be a path starting with '/'; got ${JSON.stringify(path)}`)
  }
  if (domain !== undefined && (typeof domain !== 'string' || !/^[A-Za-z0-9.-]+$/.test(domain))) {
    throw new TypeError(`${where}.domain must be a domain name; got ${JSON.stringify(domain)}`)
  }
  if (hostPrefix) {
    if (!secure) throw new TypeError(`${where}: hostPrefix needs secure: true (browsers reject __Host- cookies without Secure)`)
    if (path !== '/') throw new TypeError(`${where}: hostPrefix needs path '/'; got ${JSON.stringify(path)}`)
    if (domain !== undefined) throw new TypeError(`${where}: hostPrefix cannot be combined with domain (a __Host- cookie is host-only)`)
  }
  if (sameSite === 'none' && !secure) {
    throw new TypeError(`${where}: sameSite 'none' needs secure: true (browsers reject it otherwise)`)
  }
  if (!secure) {
    // Once, here at creation: per request it would drown the log.
    logger.warn(
      `${where}.secure is false: the session cookie will be sent over plain HTTP. Use this only for development on http://localhost.`,
    )
  }
  const name = hostPrefix ? `${HOST_PREFIX}${baseName}` : baseName
  const attributes = { httpOnly: true, secure, sameSite, path, ...(domain === undefined ? {} : { domain }) } as const
  return {
    name,
    persistent: options.persistent ?? true,
    clearSiteData: options.clearSiteData ?? false,
    read(cookieHeader) {
      if (cookieHeader === undefined || cookieHeader.length === 0) return undefined
      // A browser never sends more than a few kilobytes per cookie; a larger header is not ours.
      let value: string | undefined
      try {
        // Values are kept raw: session cookies are base64url and need no decoding, and a
        // percent-sequence in one is simply an invalid token.
        value = parseCookie(cookieHeader, RAW)[name]
      } catch {
        return undefined
      }
      if (value === undefined || value.length === 0 || value.length > COOKIE_SIZE_LIMIT) return undefined
      return value
    },
    serialize(value, maxAge) {
      return stringifySetCookie(name, value, maxAge === undefined ? attributes : { ...attributes, maxAge })
    },
    expired: stringifySetCookie(name, '', { ...attributes, maxAge: 0, expires: new Date(0) }),
  }
}

const RAW = { decode: (value: string): string => value }
