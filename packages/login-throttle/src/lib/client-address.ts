import ipaddr from 'ipaddr.js'

/**
 * The bucket a client address is counted in. IPv4 addresses count one by one (an IPv4-mapped
 * IPv6 address is its IPv4 address, so a dual-stack socket gives one bucket). IPv6 addresses count
 * per network of `ipv6Subnet` bits: one subscriber usually holds a /64 or a /56, and counting
 * single addresses would give them billions of fresh allowances. Anything else (a socket path, a
 * label a proxy passed on) is counted as given, trimmed.
 *
 * Returns undefined when there is no address to count.
 */
export function addressBucket(address: unknown, ipv6Subnet: number): string | undefined {
  if (typeof address !== 'string') return undefined
  const trimmed = address.trim()
  if (trimmed === '') return undefined
  if (ipaddr.IPv4.isValidFourPartDecimal(trimmed)) return ipaddr.IPv4.parse(trimmed).toString()
  if (ipaddr.IPv6.isValid(trimmed)) {
    const parsed = ipaddr.IPv6.parse(trimmed)
    if (parsed.isIPv4MappedAddress()) return parsed.toIPv4Address().toString()
    return `${new ipaddr.IPv6(maskParts(parsed.parts, ipv6Subnet)).toNormalizedString()}/${ipv6Subnet}`
  }
  return trimmed
}

/** The eight 16-bit parts of an IPv6 address with everything after the first `bits` bits zeroed. */
function maskParts(parts: readonly number[], bits: number): number[] {
  return parts.map((part, index) => {
    const kept = Math.min(16, Math.max(0, bits - index * 16))
    return kept === 0 ? 0 : part & ((0xffff << (16 - kept)) & 0xffff)
  })
}
