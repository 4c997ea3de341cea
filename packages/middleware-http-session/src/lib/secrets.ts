import { hkdfSync } from 'node:crypto'

/** The shortest secret accepted, in bytes of UTF-8: 256 bits of key material. */
export const MIN_SECRET_BYTES = 32

/** One key derived from one configured secret. */
export interface DerivedKey {
  /** Key id put in the token header (`kid`), so verification picks the right key without trying all. */
  readonly kid: string
  /** Raw key bytes. */
  readonly bytes: Uint8Array<ArrayBuffer>
}

/**
 * Checks a `secrets` option at configuration time. `where` names the option in messages
 * (`'jwt.secrets'`), so the error says exactly what to change.
 */
export function assertSecrets(secrets: unknown, where: string): asserts secrets is readonly string[] {
  if (!Array.isArray(secrets) || secrets.length === 0) {
    throw new TypeError(`${where} must be a non-empty array of secrets, newest first (the first signs, all verify)`)
  }
  secrets.forEach((secret: unknown, index) => {
    if (typeof secret !== 'string') {
      throw new TypeError(`${where}[${index}] must be a string; got ${secret === null ? 'null' : typeof secret}`)
    }
    const bytes = Buffer.byteLength(secret, 'utf8')
    if (bytes < MIN_SECRET_BYTES) {
      throw new RangeError(
        `${where}[${index}] must be at least ${MIN_SECRET_BYTES} bytes; got ${bytes} (generate one with: openssl rand -base64 32)`,
      )
    }
  })
  if (new Set(secrets).size !== secrets.length) {
    throw new TypeError(`${where} lists the same secret twice`)
  }
}

/**
 * Derives one key per secret for one purpose with HKDF-SHA-256. Each strategy uses its own
 * `purpose`, so a secret shared between, say, bearer tokens and encrypted cookies still yields
 * unrelated keys, and a token made for one can never be accepted as the other.
 */
export function deriveKeys(secrets: readonly string[], purpose: string, length: number): DerivedKey[] {
  return secrets.map((secret) => {
    const bytes = new Uint8Array(hkdfSync('sha256', secret, '', `pikku-http-session ${purpose} key`, length))
    // The key id is derived too: it reveals nothing about the key and stays stable when secrets
    // are added or removed (an index would shift with every rotation).
    const kid = Buffer.from(hkdfSync('sha256', secret, '', `pikku-http-session ${purpose} kid`, 9)).toString('base64url')
    return { kid, bytes }
  })
}
