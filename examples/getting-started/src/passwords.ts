import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto'
import { promisify } from 'node:util'

const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keylen: number) => Promise<Buffer>

/** `scrypt$<salt>$<hash>`, both base64url; what `database` stores as `passwordHash`. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16)
  const hash = await scryptAsync(password, salt, 32)
  return `scrypt$${salt.toString('base64url')}$${hash.toString('base64url')}`
}

/**
 * The `verifyPassword` the page's login calls. The page's login has no input schema, so `password`
 * is whatever the client sent (or nothing): anything but a string is a wrong password, not a crash.
 */
export async function verifyPassword(password: string, passwordHash: string): Promise<boolean> {
  if (typeof password !== 'string') return false
  const [scheme, salt, expected] = passwordHash.split('$')
  if (scheme !== 'scrypt' || salt === undefined || expected === undefined) return false
  const hash = await scryptAsync(password, Buffer.from(salt, 'base64url'), 32)
  const wanted = Buffer.from(expected, 'base64url')
  return wanted.length === hash.length && timingSafeEqual(wanted, hash)
}
