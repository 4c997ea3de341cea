export { createHTTPSessions, type HTTPSessions, type HTTPSessionsOptions, type HTTPAuthentication, type JwtService } from './lib/http-sessions.js'
export { type CookieSessionOptions, COOKIE_SIZE_LIMIT } from './lib/session-cookie.js'
export { type CsrfOptions } from './lib/csrf.js'
export { type JwtOptions, type JwtAlgorithm } from './lib/signed-tokens.js'
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
