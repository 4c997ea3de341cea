import { noCredential, type Authentication, type CoreUserSession, type CredentialInput, type UserSession } from '@pikku/core'

/**
 * Where a strategy reads request headers from: a `CredentialInput` with headers, or the call's
 * `wire.http` itself (so the middleware builds no object per request). Always called as a method.
 */
export interface HeaderSource {
  header(name: string): string | undefined
}

/**
 * Hands a `CredentialInput` to the strategy's reader for its form: request headers or a bare
 * token. Anything else is a programming mistake, rejected with a message saying what to pass.
 */
export function readCredentialInput<S extends CoreUserSession>(
  input: CredentialInput,
  fromHeaders: (source: HeaderSource) => Promise<Authentication<S>>,
  fromToken: (token: string) => Promise<Authentication<S>>,
): Promise<Authentication<S>> {
  if (input !== null && typeof input === 'object') {
    if (typeof input.header === 'function') return fromHeaders(input as HeaderSource)
    if (typeof input.token === 'string') return fromToken(input.token)
  }
  return Promise.reject(
    new TypeError('authenticate() takes { header: (name) => string | undefined } (request headers) or { token: string } (a bare token)'),
  )
}

/** A frozen `refused` answer, made once per strategy and reason so that refusing allocates nothing. */
export function refusal(credential: string, reason: string): Authentication<never> {
  return Object.freeze({ outcome: 'refused', credential, reason })
}

/**
 * A `transient` answer of a stateless strategy, carrying what its middleware needs besides the
 * session (the token's or cookie's times). Other protocols see an ordinary `transient` answer.
 */
export interface TransientWith<Loaded> {
  readonly outcome: 'transient'
  readonly credential: string
  readonly session: UserSession
  readonly loaded: Loaded
}

/** The shared "no credential of this kind" answer, already resolved. */
export const NO_CREDENTIAL: Promise<Authentication<never>> = Promise.resolve(noCredential<never>())
