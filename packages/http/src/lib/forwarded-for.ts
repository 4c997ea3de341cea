/**
 * `X-Forwarded-For` as a proxy you run writes it: each proxy appends the address of the peer it
 * received the request from, so only the rightmost entry comes from your proxy. Every entry to its
 * left was sent by the client and is whatever the client chose to claim.
 */

/** Longest entry considered: `[` + the longest IPv6 text (45) + `]:65535`. */
const MAX_ENTRY_LENGTH = 53

const IPV4 = /^(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$/
const IPV6_CHARS = /^[0-9A-Fa-f:.]{2,45}$/

function isOWS(code: number): boolean {
  return code === 32 || code === 9
}

function isPort(text: string): boolean {
  return /^[0-9]{1,5}$/.test(text) && Number(text) <= 65_535
}

function isIPv6(text: string): boolean {
  if (!IPV6_CHARS.test(text) || !text.includes(':')) return false
  // The WHATWG URL parser is the IPv6 grammar every runtime ships (no node:net on edge runtimes).
  try {
    new URL(`http://[${text}]/`)
    return true
  } catch {
    return false
  }
}

/**
 * The address in one `X-Forwarded-For` entry: `192.0.2.1`, `192.0.2.1:8080`, `2001:db8::1`,
 * `[2001:db8::1]` or `[2001:db8::1]:8080`, without the port and in lower case. Undefined for
 * anything else (`unknown`, an obfuscated identifier, a host name, garbage).
 */
export function parseForwardedEntry(entry: string): string | undefined {
  // Optional whitespace around list items is spaces and tabs only (RFC 9110 §5.6.1); trimmed by
  // hand, as a /[ \t]+$/ regex backtracks quadratically on a long run of spaces.
  let start = 0
  let end = entry.length
  while (start < end && isOWS(entry.charCodeAt(start))) start++
  while (end > start && isOWS(entry.charCodeAt(end - 1))) end--
  if (end - start > MAX_ENTRY_LENGTH) return undefined
  const text = entry.slice(start, end)
  if (text.startsWith('[')) {
    const close = text.indexOf(']')
    if (close === -1) return undefined
    const rest = text.slice(close + 1)
    if (rest !== '' && !(rest.startsWith(':') && isPort(rest.slice(1)))) return undefined
    const address = text.slice(1, close)
    return isIPv6(address) ? address.toLowerCase() : undefined
  }
  if (IPV4.test(text)) return text
  const colon = text.indexOf(':')
  if (colon !== -1 && colon === text.lastIndexOf(':')) {
    // IPv4 with a port (some load balancers add one); a single colon is never IPv6.
    const address = text.slice(0, colon)
    return IPV4.test(address) && isPort(text.slice(colon + 1)) ? address : undefined
  }
  return isIPv6(text) ? text.toLowerCase() : undefined
}

/**
 * The client address your proxy reported: the rightmost entry of an `X-Forwarded-For` header
 * (repeated headers joined with `,`), or undefined when that entry is missing or not an address.
 * An entry further left is never used, even when the rightmost one is malformed: only the
 * rightmost was written by your proxy. Use it only for requests that came through a proxy you run.
 */
export function forwardedForAddress(header: string | undefined): string | undefined {
  if (header === undefined) return undefined
  return parseForwardedEntry(header.slice(header.lastIndexOf(',') + 1))
}
