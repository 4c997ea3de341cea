export * from './lib/errors.js'
export * from './lib/error-table.js'
export * from './lib/logger.js'
export * from './lib/register.js'
export * from './lib/json-equal.js'
export * from './lib/session-token.js'
export * from './lib/session-store.js'
export * from './lib/storable-key.js'
export * from './lib/session-events.js'
export * from './lib/session-event-message.js'
export { createEventDeliveryMonitor, type EventDeliveryMonitor, type EventDeliveryMonitorOptions } from './lib/event-delivery-monitor.js'
export * from './lib/session-state.js'
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
export {
  type SessionEventClient,
  type SessionEventSubject,
  type SessionLifecycleEvent,
  type SessionLifecycleEventType,
  type SessionLifecycleListener,
  type SessionRefusal,
} from './lib/session-lifecycle.js'
export * from './lib/session-manager.js'
export * from './lib/memory-store.js'
export * from './lib/wire.js'
export * from './lib/middleware.js'
export * from './lib/permission.js'
export * from './lib/input-schema.js'
export * from './lib/function.js'
export * from './lib/runner.js'
export * from './lib/session-lifetime.js'
export * from './lib/namespaced-store.js'
export * from './lib/authenticator.js'
// Named, for the export list that replaces `export *` (issue 20: toLogger, the unregistered types).
export { toLogger, type ObjectFirstLogger, type ToLoggerOptions } from './lib/logger.js'
export type { UserSession_is_not_declared__add_declare_module_Register, Services_are_not_declared__add_declare_module_Register } from './lib/register.js'
