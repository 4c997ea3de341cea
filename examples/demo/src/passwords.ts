import { scrypt, timingSafeEqual } from 'node:crypto'

/**
 * Verifies a password against `scrypt$N$r$p$salt$hash` (base64url). scrypt comes from Node's own
 * crypto; the comparison is constant-time.
 */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parts = encoded.split('$')
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false
  const [, n, r, p, salt, hash] = parts as [string, string, string, string, string, string]
  const expected = Buffer.from(hash, 'base64url')
  const actual = await new Promise<Buffer>((resolve, reject) => {
    scrypt(password, Buffer.from(salt, 'base64url'), expected.length, { N: Number(n), r: Number(r), p: Number(p) }, (error, key) =>
      error ? reject(error) : resolve(key),
    )
  })
  return actual.length === expected.length && timingSafeEqual(actual, expected)
}

/**
 * The hash a login checks when the email has no account: scrypt with the users' parameters (so it
 * costs the same) over a random password nobody kept. Without it an unknown email is answered
 * about 80 ms sooner than a known one, and the response time tells which emails have accounts.
 */
export const DUMMY_PASSWORD_HASH = 'scrypt$16384$8$1$w69k2s3Ximn-rFjw-8nEqg$t_xOEKfGL9i5pw92gmBhCENGyrQidT0onFYWhitkumM'
