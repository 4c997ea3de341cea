/**
 * The key layout. Every command and every Lua script the store sends touches exactly one key, so
 * the layout works unchanged on Redis Cluster: no operation ever needs two keys in one slot. The
 * part in braces is the hash tag, named on purpose: a session's record lives in the slot of its
 * id, a user's index in the slot of its user id, which spreads both evenly over the cluster.
 */
export interface RedisKeys {
  /** Hash with the record's fields; expires with the session (PEXPIRE). */
  record(id: string): string
  /** Sorted set of the user's session ids scored by expiresAt; its own TTL is its newest expiry. */
  user(userId: string): string
  /** Pub/sub channel for session events. */
  readonly channel: string
}

// Whitespace and control characters in a key prefix are almost always a configuration mistake
// (an unquoted environment variable) and make keys painful to inspect with redis-cli.
const PREFIX = /^[\x21-\x7e]{1,64}$/

export function assertKeyPrefix(keyPrefix: string): void {
  if (typeof keyPrefix !== 'string' || !PREFIX.test(keyPrefix) || keyPrefix.includes('{') || keyPrefix.includes('}')) {
    throw new TypeError(
      `keyPrefix must be 1 to 64 printable ASCII characters without spaces or braces (braces would override the hash tags); got ${JSON.stringify(keyPrefix)}`,
    )
  }
}

export function redisKeys(keyPrefix: string): RedisKeys {
  return {
    record: (id) => `${keyPrefix}:s:{${id}}`,
    user: (userId) => `${keyPrefix}:u:{${userId}}`,
    channel: `${keyPrefix}:events`,
  }
}
