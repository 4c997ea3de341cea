// @pikku/core/protocol: what a protocol package (HTTP, a channel, the CLI, MCP, or a new one) uses
// to run functions with sessions. Apps do not need anything here.

// Errors as a caller sees them; each protocol maps `PikkuErrorCode` with its own table.
export { toPikkuError, toPublicError, type PublicError } from './lib/public-error.js'

// Calling a function: input, guards, middleware, names.
export { validateInput, inputJsonSchema } from './lib/input-schema.js'
export { checkPermissions } from './lib/permission.js'
export { runMiddleware } from './lib/middleware.js'
export { functionName } from './lib/function.js'

// The live session of one call, and persisting it.
export { SessionState, type PendingSession, type SessionPatch } from './lib/session-state.js'
export type { SessionCommitOptions, SessionCommitResult, SessionLoadOptions } from './lib/session-manager.js'
export { adoptAuthentication } from './lib/authenticator.js'
// Lifecycle events for strategies that have no session manager (stateless tokens and cookies):
// the manager's own emitter (subscribers after the response, failures logged) and event shape.
export { createSessionLifecycleEmitter, refusedEvent, type SessionLifecycleEmitter } from './lib/session-lifecycle.js'
export {
  resolveSessionLifetime,
  USER_SESSION_DEFAULTS,
  type SessionLifetime,
  type SessionLifetimeDefaults,
  type SessionTimes,
} from './lib/session-lifetime.js'

// Tokens, and protocol state kept in the session store under its own namespace.
export { generateSessionToken, hashSessionToken, isSessionTokenShape } from './lib/session-token.js'
export { createNamespacedStore } from './lib/namespaced-store.js'
// The synchronous answer of a read held in process memory (the session manager's loadByToken over
// the memory store or a read-cache hit), for the protocol code on every request.
export { syncTwinOf } from './lib/sync-twin.js'
