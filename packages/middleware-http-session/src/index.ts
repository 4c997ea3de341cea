// The public surface of @pikku/middleware-http-session, name by name.

// Stored sessions: a session cookie and/or bearer JWTs naming a session in core's store.
export { createHTTPSessions, type HTTPSessions, type HTTPSessionsOptions, type HTTPAuthentication, type JwtService } from './lib/http-sessions.js'
export { type CookieSessionOptions, COOKIE_SIZE_LIMIT } from './lib/session-cookie.js'
export { type CsrfOptions } from './lib/csrf.js'
export { type JwtOptions, type JwtAlgorithm } from './lib/signed-tokens.js'
// Opt-in stateless strategies.
export {
  createStatelessJwtSessions,
  type StatelessJwtSessions,
  type StatelessJwtSessionsOptions,
} from './lib/stateless-jwt-sessions.js'
export {
  createEncryptedCookieSessions,
  type EncryptedCookieSessions,
  type EncryptedCookieSessionsOptions,
} from './lib/encrypted-cookie-sessions.js'
// Any SessionAuthenticator (API keys, access tokens) in front of HTTP routes.
export { createAuthenticatorMiddleware, type AuthenticatorMiddlewareOptions } from './lib/authenticator-middleware.js'
