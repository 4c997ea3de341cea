export * from './lib/http-wire.js'
export * from './lib/incoming.js'
export * from './lib/route.js'
export * from './lib/router.js'
export * from './lib/request-data.js'
export * from './lib/handler.js'
export * from './lib/fetch-adapter.js'
export { errorResponse, httpStatusOf } from './lib/error-response.js'
export { incomingFromRequest, toResponse, withHeaders, type IncomingFromRequestOptions } from './lib/fetch-request.js'
export {
  commitEachOperation,
  createRequestSessions,
  type HTTPSessionStrategy,
  type RequestSession,
  type RequestSessions,
  type RequestSessionsOptions,
  type SessionHeaders,
} from './lib/request-session.js'
export * from './lib/node-adapter.js'
export * from './lib/origin-policy.js'
export * from './lib/bearer-token.js'
export { RequestAbortedError } from './lib/request-aborted.js'
export { forwardedForAddress } from './lib/forwarded-for.js'
