export { pikkuRouteHandlers, type PikkuRouteHandlers, type PikkuRouteHandlersOptions } from './lib/route-handlers.js'
export { createNextSessions, type NextSessions, type NextSessionsOptions } from './lib/next-sessions.js'
