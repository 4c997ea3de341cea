import { SignJWT, type JWTPayload } from 'jose'
import { deriveKeys } from './secrets.js'

export interface ForgeOptions {
  secret: string
  /** @default 'pikku-session+jwt' */
  type?: string
  header?: Record<string, unknown>
  payload: JWTPayload
  /** @default 'HS256' */
  alg?: 'HS256' | 'HS384' | 'HS512'
  /** Key id to put in the header; by default the one the secret derives. */
  kid?: string
}

/**
 * Signs an arbitrary token with the key the package would derive from `secret`: a correctly
 * signed token whose claims the test chooses, to check that verification is more than a signature.
 */
export async function forgeToken(options: ForgeOptions): Promise<string> {
  const alg = options.alg ?? 'HS256'
  const type = options.type ?? 'pikku-session+jwt'
  const bytes = { HS256: 32, HS384: 48, HS512: 64 }[alg]
  const [key] = deriveKeys([options.secret], `jws ${alg} ${type}`, bytes)
  return new SignJWT(options.payload)
    .setProtectedHeader({ alg, typ: type, kid: options.kid ?? key!.kid, ...options.header })
    .sign(key!.bytes)
}

/** An unsigned token (`alg: none`) carrying the given claims. */
export function unsignedToken(payload: JWTPayload, header: Record<string, unknown> = { alg: 'none', typ: 'pikku-session+jwt' }): string {
  const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')
  return `${encode(header)}.${encode(payload)}.`
}

export function decodePart(token: string, index: 0 | 1): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[index]!, 'base64url').toString('utf8')) as Record<string, unknown>
}

/** The token with one character of the given part changed. */
export function tamper(token: string, part: number): string {
  const parts = token.split('.')
  const target = parts[part]!
  const index = Math.floor(target.length / 2)
  const replacement = target[index] === 'A' ? 'B' : 'A'
  parts[part] = target.slice(0, index) + replacement + target.slice(index + 1)
  return parts.join('.')
}
