import { type Authentication, noCredential, type SessionAuthenticator } from '@pikku/core'
import { isSessionTokenShape } from '@pikku/core/protocol'
import { readBearerToken } from '@pikku/http'
import { createMCPHTTPHandler, wireMCP, type MCPHTTPHandler, type MCPHTTPHandlerOptions, type MCPTools } from '@pikku/mcp-session'
import type { DemoApp, DemoFunctions } from './app.js'

/** The demo's functions as MCP tools, named after the functions. */
export function createDemoTools(functions: DemoFunctions): MCPTools {
  return wireMCP({
    tools: functions,
    name: 'pikku-demo',
    version: '0.0.0',
    instructions:
      'Call login with an email and password to start a session in this MCP session, or send Authorization: Bearer <token> with a token from login. getProfile, updatePreferences, logout and the session tools (listSessions, revokeSession, revokeOtherSessions) need a session.',
  })
}

/**
 * Credentials the demo's MCP endpoints accept: the JWTs its login hands out, as
 * `Authorization: Bearer` (checked against the stored session on every use), and, for the stdio
 * server's `{ token }`, the opaque session token a local CLI login keeps too.
 */
export function demoAuthenticator(app: DemoApp, options: { opaque: boolean }): SessionAuthenticator {
  const verify = async (token: string): Promise<Authentication> => {
    const record = options.opaque && isSessionTokenShape(token) ? await app.sessions.loadByToken(token) : await app.httpSessions.authenticateToken(token)
    return record === undefined ? { outcome: 'refused', credential: 'bearer', reason: 'invalid' } : { outcome: 'stored', credential: 'bearer', record }
  }
  return {
    async authenticate(input) {
      if (input.token !== undefined) return verify(input.token)
      const authorization = input.header('authorization')
      const token = authorization === undefined ? undefined : readBearerToken(authorization)
      return token === undefined || token === '' ? noCredential() : verify(token)
    },
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
    authenticator: demoAuthenticator(app, { opaque: false }),
    logger: app.logger,
    ...options,
    http: { allowedOrigins: app.allowedOrigins, ...options.http },
  })
}
