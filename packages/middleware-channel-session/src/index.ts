export * from './lib/channel-sessions.js'
export * from './lib/subprotocol-token.js'
export * from './lib/origin-policy.js'
export * from './lib/session-timers.js'
