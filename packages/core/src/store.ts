// @pikku/core/store: what a session store implementation uses besides the contract types (which
// the main entry point exports). Apps do not need anything here.

export { isStorableKey } from './lib/storable-key.js'
export { createSweepReporter, type SweepReporter } from './lib/sweep-reporter.js'
export { createSessionEventBus, type SessionEventBus } from './lib/session-events.js'
export {
  heartbeatMessage,
  isHeartbeatMessage,
  isSessionEventMessage,
  parseSessionEventMessage,
  type SessionEventMessage,
} from './lib/session-event-message.js'
export { createEventDeliveryMonitor, type EventDeliveryMonitor, type EventDeliveryMonitorOptions } from './lib/event-delivery-monitor.js'
export { generateSessionToken, hashSessionToken } from './lib/session-token.js'

// Reporting failures: an outage is a 503 with a fixed message, a caller's mistake passes through.
export { storeMisuse, storeUnavailable, translateStoreError } from './lib/store-errors.js'
// The read cache a store puts in front of itself when given a `cache` option (decision 024).
export { assertSessionCacheOption, cacheSessionStore, type SessionCacheSetup } from './lib/session-cache.js'
// For a store (or a store wrapper) that holds records in process memory: its get's synchronous
// twin, which the session manager reads without a promise.
export { withSyncTwin, syncTwinOf, type SyncTwin } from './lib/sync-twin.js'
