import type { Clock, Logger } from '@pikku/core'
import { errors, jwtVerify, SignJWT, type JWTPayload, type JWTVerifyOptions } from 'jose'
import { MAX_BEARER_LENGTH } from './bearer-header.js'
import { assertSecrets, deriveKeys } from './secrets.js'

export type JwtAlgorithm = 'HS256' | 'HS384' | 'HS512'

export interface JwtOptions {
  /**
   * HMAC secrets, newest first: the first signs, every one verifies. Each at least 32 bytes
   * (`openssl rand -base64 32`). To rotate, put a new secret first; remove the old one once every
   * token it signed has expired. A token signed with a removed secret is rejected.
   */
  secrets: readonly string[]
  /** The `iss` claim set and required. @default 'pikku' */
  issuer?: string
  /** The `aud` claim set and required. Give each kind of token its own. @default 'pikku-session' */
  audience?: string
  /**
   * Token lifetime in seconds. The stored session is checked on every use as well, so a token
   * never outlives its session, whatever this says.
   * @default 3600 (1 hour)
   */
  expiresIn?: number
  /** HMAC algorithm; the only one accepted when verifying. @default 'HS256' */
  algorithm?: JwtAlgorithm
  /** The `typ` header set and required, naming the token's purpose. @default 'pikku-session+jwt' */
  type?: string
  /** Seconds of clock difference tolerated between servers for `exp`/`iat`. @default 5 */
  clockTolerance?: number
}

/** The claims of a verified token: `sub`, `iat` and `exp` are always present. */
export type VerifiedClaims = JWTPayload & { sub: string; iat: number; exp: number }

/**
 * Why a token was refused, as a short code for logs and `refused` authentications (never the
 * token): `'malformed'` (empty, oversized, not a JWS), `'expired'` (past `exp`), `'invalid'`
 * (signature, key, algorithm, type, issuer, audience, or a required claim).
 */
export type TokenRefusal = 'malformed' | 'expired' | 'invalid'

/** Signs and verifies one kind of token. Verification never throws: a bad token is a `TokenRefusal`. */
export interface SignedTokens {
  readonly expiresIn: number
  /** Signs `claims` for `subject`, expiring `expiresIn` seconds from now or at `expiresAt` (s) if earlier. */
  sign(subject: string, claims: Record<string, unknown>, expiresAt?: number): Promise<string>
  /** The verified claims (with a non-empty `sub`), or why the token was refused. */
  verify(token: string): Promise<VerifiedClaims | TokenRefusal>
}

const KEY_BYTES: Record<JwtAlgorithm, number> = { HS256: 32, HS384: 48, HS512: 64 }
const HASH: Record<JwtAlgorithm, string> = { HS256: 'SHA-256', HS384: 'SHA-384', HS512: 'SHA-512' }
/** Verified tokens remembered per strategy (oldest forgotten first). */
const VERIFIED_CACHE_SIZE = 10_000
const RESERVED = new Set(['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti', 'sid', 'ses', 'auth_time'])

export interface SignedTokenDefaults {
  readonly audience: string
  readonly type: string
}

export function createSignedTokens(options: JwtOptions, where: string, clock: Clock, defaults: SignedTokenDefaults, logger: Logger): SignedTokens {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`${where} must be an object such as { secrets: [process.env.JWT_SECRET] }`)
  }
  assertSecrets(options.secrets, `${where}.secrets`)
  const algorithm = options.algorithm ?? 'HS256'
  if (!(algorithm in KEY_BYTES)) {
    throw new TypeError(`${where}.algorithm must be 'HS256', 'HS384' or 'HS512'; got ${JSON.stringify(algorithm)}`)
  }
  const issuer = nonEmpty(options.issuer ?? 'pikku', `${where}.issuer`)
  const audience = nonEmpty(options.audience ?? defaults.audience, `${where}.audience`)
  const type = nonEmpty(options.type ?? defaults.type, `${where}.type`)
  const expiresIn = options.expiresIn ?? 3600
  if (!Number.isInteger(expiresIn) || expiresIn <= 0) {
    throw new RangeError(`${where}.expiresIn must be a positive whole number of seconds; got ${expiresIn}`)
  }
  const clockTolerance = options.clockTolerance ?? 5
  if (!Number.isFinite(clockTolerance) || clockTolerance < 0) {
    throw new RangeError(`${where}.clockTolerance must be 0 or more seconds; got ${clockTolerance}`)
  }

  // The type takes part in the derivation, so tokens of different purposes never share a key.
  const derived = deriveKeys(options.secrets, `jws ${algorithm} ${type}`, KEY_BYTES[algorithm])
  const imported = new Map<string, Promise<CryptoKey>>()
  const keyFor = (kid: string | undefined): Promise<CryptoKey> => {
    let key = kid === undefined ? undefined : imported.get(kid)
    if (key === undefined) {
      const entry = derived.find((candidate) => candidate.kid === kid)
      // A token from a retired secret (or forged `kid`) names no key we hold: rejected.
      if (entry === undefined) return Promise.reject(new errors.JWSSignatureVerificationFailed('unknown key id'))
      key = crypto.subtle.importKey('raw', entry.bytes, { name: 'HMAC', hash: HASH[algorithm] }, false, ['sign', 'verify'])
      imported.set(entry.kid, key)
    }
    return key
  }
  const signing = derived[0]!
  const verified = new Map<string, VerifiedClaims>()
  const algorithms = [algorithm]
  const requiredClaims = ['sub', 'exp', 'iat']

  return {
    expiresIn,

    async sign(subject, claims, expiresAt) {
      const now = Math.floor(clock() / 1000)
      const exp = expiresAt === undefined ? now + expiresIn : Math.min(now + expiresIn, expiresAt)
      return new SignJWT(claims)
        .setProtectedHeader({ alg: algorithm, typ: type, kid: signing.kid })
        .setIssuer(issuer)
        .setAudience(audience)
        .setSubject(subject)
        .setIssuedAt(now)
        .setExpirationTime(exp)
        .sign(await keyFor(signing.kid))
    },

    async verify(token) {
      if (token.length === 0 || token.length > MAX_BEARER_LENGTH) return 'malformed'
      // A client sends the same token on every request for its lifetime: a verified token's claims
      // are remembered (bounded), and only the time-dependent checks are repeated.
      const remembered = verified.get(token)
      if (remembered !== undefined) {
        const now = clock() / 1000
        const live = now < remembered.exp + clockTolerance
        if (live && (remembered.nbf === undefined || now >= remembered.nbf - clockTolerance)) return remembered
        verified.delete(token)
        return live ? 'invalid' : 'expired'
      }
      const verifyOptions: JWTVerifyOptions = {
        algorithms,
        issuer,
        audience,
        typ: type,
        requiredClaims,
        clockTolerance,
        currentDate: new Date(clock()),
      }
      try {
        const { payload } = await jwtVerify(token, (header) => keyFor(header.kid), verifyOptions)
        if (typeof payload.sub !== 'string' || payload.sub.length === 0) return 'invalid'
        const claims = Object.freeze(payload) as VerifiedClaims
        if (verified.size >= VERIFIED_CACHE_SIZE) verified.delete(verified.keys().next().value as string)
        verified.set(token, claims)
        return claims
      } catch (error) {
        const code = (error as { code?: string }).code
        // Only the reason's code is logged: the token itself is a credential.
        logger.debug('bearer token rejected', { reason: code ?? 'invalid' })
        return refusalOf(code)
      }
    },
  }
}

/** Checks the extra claims an app passes to `jwt.sign()`: none may replace one the session sets. */
export function assertOwnClaims(claims: unknown): asserts claims is Record<string, unknown> | undefined {
  if (claims === undefined) return
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) {
    throw new TypeError('jwt.sign() takes an optional plain object of extra claims')
  }
  for (const name of Object.keys(claims)) {
    if (RESERVED.has(name)) throw new TypeError(`jwt.sign(): the claim '${name}' is set by the session; pass only your own claims`)
  }
}

/** The refusal code for one of jose's error codes. */
function refusalOf(code: string | undefined): TokenRefusal {
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return 'expired'
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
      return 'malformed'
    default:
      return 'invalid'
  }
}

function nonEmpty(value: unknown, where: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new TypeError(`${where} must be a non-empty string`)
  return value
}
