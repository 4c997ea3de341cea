import type { CredentialInput, Logger, SessionAuthenticator, UserSession } from '@pikku/core'
import type { Binding, ConnectionBindings } from './connection-bindings.js'

/**
 * Sessions no store backs (an API key, a stateless token) on open connections. Nothing announces
 * that such a credential was revoked or has expired, so the connection verifies it again with the
 * authenticator every `recheckInterval`: on a timer, and before a message if the timer is late.
 */
export interface TransientSessions {
  /** The connection of `binding` now holds `session`, which `credential` named. */
  adopt(binding: Binding, session: UserSession, credential: CredentialInput): void
  /**
   * Verifies the credential again; ends the connection's session (and tells the client) when it
   * no longer names the same user. Rejects with the authenticator's error, keeping the session.
   */
  verify(binding: Binding): Promise<void>
  /** `verify` from a timer: a failure is logged, and the next message verifies again. */
  verifyInBackground(binding: Binding): void
}

export function createTransientSessions(
  authenticator: SessionAuthenticator<UserSession>,
  bindings: ConnectionBindings,
  clock: () => number,
  recheckInterval: number,
  logger: Logger,
): TransientSessions {
  const nextCheck = (): number => (recheckInterval === Number.POSITIVE_INFINITY ? recheckInterval : clock() + recheckInterval)

  const verify = (binding: Binding): Promise<void> => {
    const transient = binding.transient
    if (transient === undefined) return Promise.resolve()
    if (binding.verifying !== undefined) return binding.verifying
    const verifying = authenticator.authenticate(transient.credential).then(
      (found) => {
        if (binding.verifying === verifying) binding.verifying = undefined
        // The connection logged in or out meanwhile: what the credential names no longer matters.
        if (binding.transient !== transient) return
        // Whatever the connection's calls did to the session in memory, it stands while the
        // credential still names the user it named at the upgrade.
        if (found.outcome === 'transient' && found.session.userId === transient.userId) {
          binding.expiresAt = nextCheck()
          bindings.schedule(binding)
          return
        }
        logger.info('the credential of a connected session no store backs no longer names its user; ending the session', {
          credential: found.outcome === 'none' ? undefined : found.credential,
          outcome: found.outcome,
        })
        bindings.end(binding)
      },
      (error: unknown) => {
        if (binding.verifying === verifying) binding.verifying = undefined
        throw error
      },
    )
    binding.verifying = verifying
    return verifying
  }

  return {
    adopt(binding, session, credential) {
      bindings.holdTransient(binding, session, credential, nextCheck())
    },
    verify,
    verifyInBackground(binding) {
      verify(binding).catch((error: unknown) => {
        // An outage is not a logout: the session stays, and the next message verifies it again
        // (and fails until the authenticator answers); an idle connection tries again later.
        logger.warn('could not verify the credential of a connected session no store backs; trying again at its next message', { error })
        if (binding.transient !== undefined) bindings.retryIn(binding, recheckInterval)
      })
    },
  }
}
