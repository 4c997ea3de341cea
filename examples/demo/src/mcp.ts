import { isSessionTokenShape, type SessionAuthenticator } from '@pikku/core'
import { createMCPHTTPHandler, wireMCP, type AuthenticateToken, type MCPHTTPHandler, type MCPHTTPHandlerOptions, type MCPTools } from '@pikku/mcp-session'
import type { DemoApp, DemoFunctions } from './app.js'
import type { UserSession } from './types.js'

/** The demo's five functions as MCP tools, named after the functions. */
export function createDemoTools(functions: DemoFunctions): MCPTools {
  return wireMCP({
    tools: functions,
    name: 'pikku-demo',
    version: '0.0.0',
    instructions:
      'Call login with an email and password to start a session in this MCP session, or send Authorization: Bearer <token> with a token from login. getProfile, updatePreferences and logout need a session.',
  })
}

/**
 * Bearer tokens the demo accepts: the JWTs its login hands out (checked against the stored session
 * on every use), and, for the stdio server, the opaque session token a local CLI login keeps.
 */
export function demoTokenVerifier(app: DemoApp, options: { opaque: boolean; oauth?: SessionAuthenticator<UserSession> }): AuthenticateToken {
  return async (token) => {
    if (options.opaque && isSessionTokenShape(token)) return app.sessions.loadByToken(token)
    // An access token from the demo's own OAuth server (an MCP client that signed alice in by itself).
    if (options.oauth !== undefined) {
      const found = await options.oauth.authenticate({ token })
      if (found.outcome === 'stored') return found.record
      if (found.outcome === 'refused') return undefined
    }
    return app.httpSessions.authenticateToken(token)
  }
}

/**
 * The MCP endpoint at `/mcp` on the demo's HTTP server (and the protected-resource metadata at
 * `/.well-known/oauth-protected-resource`). Mount `handle` before the HTTP routes.
 */
export function createDemoMCPHandler(app: DemoApp, options: Partial<MCPHTTPHandlerOptions> = {}): MCPHTTPHandler {
  return createMCPHTTPHandler({
    mcp: createDemoTools(app.functions),
    runner: app.runner,
    sessions: app.sessions,
    authenticateToken: demoTokenVerifier(app, { opaque: false }),
    allowedOrigins: app.allowedOrigins,
    logger: app.logger,
    ...options,
  })
}
