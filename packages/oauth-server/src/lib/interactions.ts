import { createHmac, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { CoreUserSession, SessionRecord } from '@pikku/core'
import type Provider from 'oidc-provider'
import type { GrantSessions } from './grant-sessions.js'
import type { OAuthSignInOptions, ResolvedOAuthServerOptions } from './options.js'
import { TEMPORARILY_UNAVAILABLE } from './guarded-store.js'
import { consentPageHtml, errorPageHtml, sendPage } from './pages.js'

export const INTERACTION_PATH = '/oauth/interaction/'

/** The OpenID Connect scopes a client may ask for to learn who signed in (an ID token needs `openid`). */
export const IDENTITY_SCOPES = ['openid', 'profile'] as const
const IDENTITY_DESCRIPTIONS: Record<(typeof IDENTITY_SCOPES)[number], string> = {
  openid: 'Know which account you signed in with (your user id)',
  profile: 'See the name this app shows for you',
}
const MAX_FORM_BYTES = 4096

interface SignedInUser<S> {
  readonly session: S
  /** The id of the signed-in browser session: CSRF tokens are bound to it. */
  readonly sessionId: string
}

/**
 * The sign-in and consent step of the authorization endpoint. The user is whoever the app's own
 * session cookie says; without one the browser goes to the app's login page and comes back here.
 * Approving creates the grant and its user session, then hands control back to the provider.
 */
export function createInteractions<S extends CoreUserSession>(
  provider: Provider,
  resolved: ResolvedOAuthServerOptions,
  signIn: OAuthSignInOptions<S>,
  secrets: readonly string[],
  grants: GrantSessions<S>,
): (req: IncomingMessage, res: ServerResponse, uid: string) => Promise<void> {
  const csrfFor = (uid: string, sessionId: string, secret: string): string =>
    createHmac('sha256', secret).update(`consent\0${uid}\0${sessionId}`).digest('base64url')
  const csrfValid = (token: string, uid: string, sessionId: string): boolean => {
    const given = Buffer.from(token)
    return secrets.some((secret) => {
      const expected = Buffer.from(csrfFor(uid, sessionId, secret))
      return given.length === expected.length && timingSafeEqual(given, expected)
    })
  }
  const userLabel = signIn.userLabel ?? defaultUserLabel
  const ownOrigin = resolved.issuer.origin

  const signedIn = async (req: IncomingMessage): Promise<SignedInUser<S> | undefined> => {
    const found = await signIn.authenticator.authenticate({ header: (name) => headerOf(req, name) })
    // Only a stored browser session signs a browser in: its id binds the CSRF token.
    if (found.outcome !== 'stored' || found.credential !== 'cookie') return undefined
    const record: SessionRecord<S> = found.record
    return { session: record.data, sessionId: record.id }
  }

  return async (req, res, uid) => {
    let details: Awaited<ReturnType<Provider['interactionDetails']>>
    try {
      details = await provider.interactionDetails(req, res)
    } catch (error) {
      if ((error as { error?: unknown }).error === TEMPORARILY_UNAVAILABLE) throw error
      // No interaction cookie, or an expired or foreign interaction.
      sendPage(res, 400, 'Sign-in expired', errorPageHtml('invalid_request', 'This sign-in request has expired or was opened in another browser'))
      return
    }
    if (details.uid !== uid) {
      sendPage(res, 400, 'Sign-in expired', errorPageHtml('invalid_request', 'This sign-in request does not belong to this browser'))
      return
    }
    const user = await signedIn(req)
    if (user === undefined) {
      if (req.method === 'POST') {
        sendPage(res, 401, 'Signed out', errorPageHtml('login_required', 'You were signed out; start again from the application'))
        return
      }
      res.writeHead(303, { location: signIn.loginUrl(`${INTERACTION_PATH}${uid}`), 'cache-control': 'no-store' })
      res.end()
      return
    }
    const params = details.params as Record<string, string | undefined>
    const clientId = String(params['client_id'])
    const client = await provider.Client.find(clientId)
    if (client === undefined) {
      sendPage(res, 400, 'Unknown application', errorPageHtml('invalid_client', 'The application asking is no longer known'))
      return
    }
    const asked = (params['scope'] ?? '').split(' ')
    const requested = asked.filter((scope) => resolved.scopes.has(scope))
    // A client that names no scope gets the one every MCP client needs, and nothing more.
    const scopes = requested.length > 0 ? requested : ['mcp:tools']
    // OpenID Connect scopes name the user to the client (an ID token, issued only with openid):
    // granted when asked for (the provider asks for consent again until every requested one is),
    // shown on the consent page, and never scopes of the resource's access tokens.
    const identity = IDENTITY_SCOPES.filter((scope) => asked.includes(scope))
    const clientName = typeof client.clientName === 'string' && client.clientName.length > 0 ? client.clientName : clientId
    const verifiedName = clientId.startsWith('https://') || clientId.startsWith('http://')

    if (req.method === 'GET') {
      sendPage(
        res,
        200,
        `Allow ${clientName}?`,
        consentPageHtml({
          action: `${INTERACTION_PATH}${uid}`,
          csrf: csrfFor(uid, user.sessionId, secrets[0] as string),
          clientName,
          clientId,
          redirectHost: redirectHost(params['redirect_uri']),
          userLabel: userLabel(user.session),
          resourceName: resolved.resourceName,
          scopes: [...scopes.map((name) => ({ name, description: resolved.scopes.get(name) ?? name })), ...identity.map((name) => ({ name, description: IDENTITY_DESCRIPTIONS[name] }))],
          verifiedName,
        }),
      )
      return
    }
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'GET, POST' })
      res.end()
      return
    }
    // Cross-site form posts: refused by origin first, then by the token bound to this interaction
    // and this browser session (SameSite cookies alone do not cover every browser).
    const origin = headerOf(req, 'origin')
    const fetchSite = headerOf(req, 'sec-fetch-site')
    const form = await readForm(req)
    if ((origin !== undefined && origin !== ownOrigin) || (fetchSite !== undefined && fetchSite !== 'same-origin') || form === undefined || !csrfValid(form.get('csrf') ?? '', uid, user.sessionId)) {
      sendPage(res, 403, 'Refused', errorPageHtml('access_denied', 'This approval did not come from the consent page'))
      return
    }
    const decision = form.get('decision')
    if (decision === 'deny') {
      await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'The user denied access' }, { mergeWithLastSubmission: false })
      return
    }
    if (decision !== 'allow') {
      sendPage(res, 400, 'Refused', errorPageHtml('invalid_request', 'decision must be allow or deny'))
      return
    }
    const grant = new provider.Grant({ accountId: user.session.userId, clientId })
    const resource = params['resource']
    if (resource === undefined || !resolved.resources.includes(resource)) {
      await provider.interactionFinished(req, res, { error: 'invalid_target', error_description: 'resource is required' }, { mergeWithLastSubmission: false })
      return
    }
    grant.addOIDCScope([...identity, ...scopes].join(' '))
    grant.addResourceScope(resource, scopes.join(' '))
    const grantId = await grant.save()
    await grants.approve(grantId, user.session, { clientId, clientName })
    await provider.interactionFinished(
      req,
      res,
      { login: { accountId: user.session.userId, remember: false }, consent: { grantId } },
      { mergeWithLastSubmission: false },
    )
  }
}

function headerOf(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name]
  return Array.isArray(value) ? value[0] : value
}

function redirectHost(uri: string | undefined): string | undefined {
  // The device flow has no redirect: the client polls for its tokens.
  if (uri === undefined) return undefined
  if (!URL.canParse(uri)) return 'an unknown address'
  const url = new URL(uri)
  return url.host === '' ? `${url.protocol}` : url.host
}

export function defaultUserLabel(session: CoreUserSession): string {
  const record = session as unknown as Record<string, unknown>
  for (const key of ['email', 'name']) if (typeof record[key] === 'string') return record[key] as string
  return session.userId
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams | undefined> {
  const type = headerOf(req, 'content-type') ?? ''
  if (!type.toLowerCase().startsWith('application/x-www-form-urlencoded')) return undefined
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > MAX_FORM_BYTES) return undefined
    chunks.push(chunk)
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'))
}
