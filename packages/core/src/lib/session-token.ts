import * as nodeCrypto from 'node:crypto'

/** 32 bytes from the CSPRNG: 256 bits, well above ASVS 5.0's minimum of 128. */
const TOKEN_BYTES = 32
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/

/** A new opaque session token for a client (base64url, 43 characters). */
export function generateSessionToken(): string {
  return nodeCrypto.randomBytes(TOKEN_BYTES).toString('base64url')
}

/** Whether a string has the shape of a token from `generateSessionToken`. Cheap; no hashing. */
export function isSessionTokenShape(token: string): boolean {
  // Credentials come from untrusted input, which is not always a string at runtime (a repeated
  // query parameter parses to an array, which `RegExp.test` would turn into its text).
  return typeof token === 'string' && TOKEN_PATTERN.test(token)
}

// One-shot hashing (Node >= 20.12) skips createHash's Hash object: about 3x faster on every
// request. Looked up at run time because engines allows Node 20 releases that lack it.
const oneShot = (nodeCrypto as { hash?: (algorithm: string, data: string, encoding: 'base64url') => string }).hash

/**
 * The storage id of a token: SHA-256, base64url. Stores only ever see this, so a leaked store
 * yields no usable credential. Lookups are by this hash, so no secret is compared byte by byte.
 */
export function hashSessionToken(token: string): string {
  return oneShot !== undefined ? oneShot('sha256', token, 'base64url') : nodeCrypto.createHash('sha256').update(token).digest('base64url')
}
