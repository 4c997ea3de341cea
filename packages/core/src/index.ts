// The public surface of @pikku/core for apps, name by name: anything not listed here (or in the
// `./store`, `./protocol` and `./testing` entry points) is internal and may change in any release.

// Errors a function throws and a caller can handle.
export {
  BadRequestError,
  ConflictError,
  ForbiddenError,
  InternalServerError,
  NotFoundError,
  PayloadTooLargeError,
  PikkuError,
  ServiceUnavailableError,
  STORE_UNAVAILABLE_MESSAGE,
  TooManyRequestsError,
  UnauthorizedError,
  type PikkuErrorCode,
  type PikkuErrorOptions,
  type TooManyRequestsErrorOptions,
} from './lib/errors.js'

// The app's types, logging and time.
export { systemClock, type Clock, type CoreUserSession, type Register, type Services, type UserSession } from './lib/register.js'
export { createConsoleLogger, silentLogger, toLogger, type LogMeta, type Logger, type ObjectFirstLogger, type ToLoggerOptions } from './lib/logger.js'

// Functions, their guards and middleware, and the runner that calls them.
export {
  pikkuFunc,
  pikkuSessionlessFunc,
  type AnyPikkuFunction,
  type FunctionDocs,
  type PikkuFuncConfig,
  type PikkuFunction,
  type PikkuSessionlessFuncConfig,
} from './lib/function.js'
export { pikkuPermission, type PermissionSpec, type PikkuPermission } from './lib/permission.js'
export { pikkuMiddleware, type PikkuMiddleware } from './lib/middleware.js'
export type { InputIssue } from './lib/input-schema.js'
export type { AuthedWire, PikkuClientInfo, PikkuProtocol, PikkuWire, SessionlessWire } from './lib/wire.js'
export {
  createRunner,
  defineServiceAccount,
  type RunOptions,
  type Runner,
  type RunnerOptions,
  type ServiceAccount,
} from './lib/runner.js'

// The session a function sees, and the manager that keeps sessions in a store.
export type { AuthedUserSessionService, SessionInventory, SessionSetOptions, UserSessionService } from './lib/session-state.js'
export { createSessionManager, type SessionManager, type SessionManagerOptions } from './lib/session-manager.js'
export type { SessionLifetimeOptions } from './lib/session-lifetime.js'

// The session inventory: metadata, listing and revoking a user's sessions, lifecycle events.
export {
  cleanMetadataText,
  parseSessionMetadata,
  readSessionMetadata,
  sessionHandle,
  sessionMetadata,
  type SessionHandle,
  type SessionListEntry,
  type SessionMetadata,
  type SessionRevokeOptions,
} from './lib/session-metadata.js'
export type {
  SessionEventClient,
  SessionEventSubject,
  SessionLifecycleEvent,
  SessionLifecycleEventType,
  SessionLifecycleListener,
  SessionRefusal,
} from './lib/session-lifecycle.js'

// Credentials: one authenticator shape that every protocol accepts.
export {
  firstAuthenticated,
  noCredential,
  type Authentication,
  type CredentialInput,
  type CredentialKind,
  type SessionAuthenticator,
} from './lib/authenticator.js'

// The store contract, and the in-memory store for development and tests.
export type {
  SessionDeleteReason,
  SessionEvent,
  SessionEventListener,
  SessionRecord,
  SessionRecordChange,
  SessionStore,
  SessionSweepListener,
  SessionUpdateResult,
  SweptSession,
} from './lib/session-store.js'
export { createMemoryStore, type MemoryStore, type MemoryStoreOptions } from './lib/memory-store.js'

// The read cache in front of a store that publishes change events (decision 024).
export { cacheSessionStore, type CachedSessionStore, type SessionCacheOptions, type SessionCacheView } from './lib/session-cache.js'
