import { setTimeout as sleep } from 'node:timers/promises'
import * as oauth from 'oauth4webapi'
import { CLIFailure } from './cli-failure.js'
import type { StoredCredential } from './credential-store.js'
import { credentialOfTokens, oauthFailure, oauthRequestOptions, type OAuthEndpoint } from './oauth-client.js'
import type { Note } from './saved-login.js'

export interface DeviceLoginOptions {
  readonly endpoint: OAuthEndpoint
  readonly client: oauth.Client
  readonly app: string
  readonly note: Note
  readonly signal: AbortSignal
  readonly now: () => number
  /** The scopes to ask for (see `loginScope`). */
  readonly scope: string
}

/**
 * `login --device` (RFC 8628): prints the verification URL and the user code, then polls the
 * token endpoint at the server's interval, five seconds slower after each `slow_down`
 * (section 3.5), until the user approves, denies, or the code expires.
 */
export async function loginWithDevice(options: DeviceLoginOptions): Promise<StoredCredential> {
  const { endpoint, client, note, signal, app } = options
  if (endpoint.as.device_authorization_endpoint === undefined) {
    throw new CLIFailure('BAD_REQUEST', `${endpoint.server} does not offer the device sign-in`, { hint: `Run \`${app} login --web\`, or \`${app} login --password\`.` })
  }
  let started: oauth.DeviceAuthorizationResponse
  try {
    const response = await oauth.deviceAuthorizationRequest(endpoint.as, client, oauth.None(), { scope: options.scope, resource: endpoint.resource }, oauthRequestOptions(endpoint))
    started = await oauth.processDeviceAuthorizationResponse(endpoint.as, client, response)
  } catch (error) {
    throw oauthFailure(endpoint, 'starting the device sign-in', error)
  }
  note(`To log in, open ${started.verification_uri} on any device and enter the code:\n\n  ${started.user_code}\n`)
  note('Waiting for you to approve…')
  let intervalMs = Math.max(1, started.interval ?? 5) * 1000
  const deadline = options.now() + started.expires_in * 1000
  for (;;) {
    try {
      await sleep(intervalMs, undefined, { signal })
    } catch {
      throw new CLIFailure('CANCELLED', 'Cancelled.')
    }
    try {
      const response = await oauth.deviceCodeGrantRequest(endpoint.as, client, oauth.None(), started.device_code, {
        ...oauthRequestOptions(endpoint),
        additionalParameters: { resource: endpoint.resource },
      })
      const tokens = await oauth.processDeviceCodeResponse(endpoint.as, client, response)
      return credentialOfTokens(endpoint, client.client_id, tokens, options.now())
    } catch (error) {
      if (!(error instanceof oauth.ResponseBodyError)) throw oauthFailure(endpoint, 'the device sign-in', error)
      switch (error.error) {
        case 'authorization_pending':
          break
        case 'slow_down':
          intervalMs += 5000
          break
        case 'access_denied':
          throw new CLIFailure('LOGIN_DENIED', 'The sign-in was denied on the verification page; nothing was saved.')
        case 'expired_token':
          throw new CLIFailure('LOGIN_EXPIRED', 'The code expired before it was approved; nothing was saved.', { hint: `Run \`${app} login --device\` again for a new code.` })
        default:
          throw oauthFailure(endpoint, 'the device sign-in', error)
      }
    }
    if (options.now() > deadline + intervalMs) {
      throw new CLIFailure('LOGIN_EXPIRED', 'The code expired before it was approved; nothing was saved.', { hint: `Run \`${app} login --device\` again for a new code.` })
    }
  }
}
