import type { Authentication } from '@pikku/core'

/** A `refused` answer. */
export type Refusal = Extract<Authentication<never>, { readonly outcome: 'refused' }>

/**
 * Calls in which an authenticator middleware (`createAuthenticatorMiddleware`) refused a
 * credential the client sent on purpose. The strategies of this package read no credential of
 * their own for such a call (a refused API key never falls back to the session cookie, the rule
 * `firstAuthenticated` follows), and, like a request that offered a bearer token, never set a
 * cookie on it.
 */
const refusedCalls = new WeakMap<object, Refusal>()
// Until the first refusal the strategies skip the lookup: most apps never mark one.
let anyMarked = false

export function markRefused(state: object, found: Refusal): void {
  anyMarked = true
  refusedCalls.set(state, found)
}

/** The refusal an earlier authenticator middleware recorded for this call, if any. */
export function refusedEarlier(state: object): Refusal | undefined {
  return anyMarked ? refusedCalls.get(state) : undefined
}
