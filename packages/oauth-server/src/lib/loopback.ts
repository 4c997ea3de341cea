import ipaddr from 'ipaddr.js'

/** `localhost`, any 127.0.0.0/8 address, or `::1` (with or without brackets, as `URL.hostname` gives it). */
export function isLoopbackHost(hostname: string): boolean {
  if (hostname === 'localhost') return true
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname
  if (!ipaddr.isValid(bare)) return false
  return ipaddr.parse(bare).range() === 'loopback'
}

/**
 * Whether every redirect URI is one a native app uses (RFC 8252): plain http on a loopback
 * address (any port will be accepted at authorization time) or a private-use scheme such as
 * `com.example.app:/callback`. Such clients are registered as `application_type: native`.
 */
export function redirectsAreNative(redirectUris: readonly string[]): boolean {
  return (
    redirectUris.length > 0 &&
    redirectUris.every((uri) => {
      if (!URL.canParse(uri)) return false
      const url = new URL(uri)
      if (url.protocol === 'http:') return isLoopbackHost(url.hostname)
      return url.protocol !== 'https:'
    })
  )
}
