import type { ChannelUpgradeRequest } from '@pikku/channel'
import {
  ForbiddenError,
  type Authentication,
  type CredentialInput,
  type Logger,
  type SessionAuthenticator,
  type UserSession,
} from '@pikku/core'
import { carriesCookie, createUpgradeOriginPolicy } from './origin-policy.js'
import { readSubprotocolToken } from './subprotocol-token.js'

/** What the credential of an upgrade came to, and the credential itself (to verify a transient session again). */
export interface UpgradeCredential {
  readonly found: Authentication<UserSession>
  /** Undefined when no credential was offered. */
  readonly input: CredentialInput | undefined
}

/** Reads the credential of a WebSocket upgrade and asks the authenticator about it. */
export interface UpgradeAuthentication {
  /**
   * Rejects with `ForbiddenError` for a cookie sent from an origin that may not use it, with
   * `BadRequestError` for two different subprotocol tokens, and with the authenticator's error
   * (`ServiceUnavailableError` while a store is down). A refused credential is not an error: the
   * connection opens anonymously, as an HTTP request with a bad credential gets no session.
   */
  authenticate(request: ChannelUpgradeRequest): Promise<UpgradeCredential>
}

const NO_CREDENTIAL: UpgradeCredential = Object.freeze({ found: Object.freeze({ outcome: 'none' as const }), input: undefined })

export function createUpgradeAuthentication(
  authenticator: SessionAuthenticator<UserSession>,
  allowedOrigins: readonly string[],
  logger: Logger,
): UpgradeAuthentication {
  const originPolicy = createUpgradeOriginPolicy(allowedOrigins, 'allowedOrigins')
  const cookieNames = [...(authenticator.cookieNames ?? [])]
  const refuseOrigin = (request: ChannelUpgradeRequest): never => {
    const origin = request.header('origin')
    throw new ForbiddenError(
      `WebSocket refused: the upgrade carries the session cookie but comes from ${origin === undefined ? 'a page that did not say its origin' : `origin ${origin}`}, ` +
        'which is not allowed. Open the socket from the same origin, or add the origin to allowedOrigins.',
    )
  }
  const logRefusal = (found: Authentication<UserSession>): void => {
    if (found.outcome === 'refused') logger.debug('a credential offered at a WebSocket upgrade was refused; the connection is anonymous', { credential: found.credential, reason: found.reason })
  }

  return {
    async authenticate(request) {
      const token = readSubprotocolToken(request.protocols)
      // A token offered in the subprotocol is used exclusively (the cookie is ignored, so a client
      // never silently acts as someone else); a refused one makes an anonymous connection.
      if (token !== undefined) {
        const input: CredentialInput = { token }
        const found = await authenticator.authenticate(input)
        logRefusal(found)
        return { found, input }
      }
      // Checked whenever one of the cookies is present, valid or not: answering a foreign page
      // differently for logged-in and logged-out visitors would tell it which one it has.
      const cookieSent = cookieNames.length > 0 && carriesAnyCookie(request.header('cookie'), cookieNames)
      if (cookieSent && !originPolicy.allows(request)) refuseOrigin(request)
      const input: CredentialInput = { header: request.header }
      const found = await authenticator.authenticate(input)
      if (found.outcome === 'none') return NO_CREDENTIAL
      logRefusal(found)
      // A cookie this check did not see (a name the authenticator did not declare) still gets it.
      if (found.outcome !== 'refused' && found.credential === 'cookie' && !cookieSent && !originPolicy.allows(request)) refuseOrigin(request)
      return { found, input }
    },
  }
}

function carriesAnyCookie(header: string | undefined, names: readonly string[]): boolean {
  if (header === undefined) return false
  for (const name of names) if (carriesCookie(header, name)) return true
  return false
}
