import { createOAuthServer, type OAuthServer } from '@pikku/oauth-server'
import type { DemoApp } from './app.js'
import type { UserSession } from './types.js'

/**
 * The demo's OAuth authorization server at `url` (its own origin). The sign-in step is the demo's
 * login page: it sends the browser back to `return_to` once signed in. Undefined (with a warning)
 * when `url` cannot be an issuer: plain http on an address other than loopback.
 */
export function createDemoOAuthServer(app: DemoApp, url: string): OAuthServer<UserSession> | undefined {
  try {
    return createOAuthServer<UserSession>({
      issuer: url,
      // MCP clients' tokens are for /mcp; the CLI's browser and device logins get tokens for /rpc.
      resource: [`${url}/mcp`, `${url}/rpc`],
      sessions: app.sessions,
      secrets: app.secrets,
      resourceName: 'the Pikku demo',
      // The demo's HTTP credentials; the server counts only a stored cookie session as a signed-in browser.
      signIn: { authenticator: app.httpSessions.authenticator, loginUrl: (returnTo) => `/?return_to=${encodeURIComponent(returnTo)}` },
      logger: app.logger,
    })
  } catch (error) {
    // An issuer must be https, or plain http on loopback: a demo on another plain-http address
    // serves MCP without OAuth rather than not at all.
    app.logger.warn(`OAuth for MCP clients is off: ${(error as Error).message}`)
    return undefined
  }
}
