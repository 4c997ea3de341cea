// The public surface of @pikku/http, name by name: anything not listed here is internal and may
// change in any release.

// Serving functions over HTTP.
export { createHTTPHandler, type HTTPHandler, type HTTPHandlerOptions, type HTTPRequestLog, type RoutedHTTPHandler } from './lib/handler.js'
export { wireHTTP, type HTTPMethod, type HTTPRoute } from './lib/route.js'
export { HTTP_STATUS, httpStatusOf } from './lib/http-status.js'
export { errorResponse } from './lib/error-response.js'

// Adapters, and what a custom adapter (another server framework) provides and receives.
export { toNodeListener, readNodeBody, writeNodeStream, type NodeListenerOptions } from './lib/node-adapter.js'
export { toFetchHandler, type FetchHandlerOptions } from './lib/fetch-adapter.js'
export { incomingFromRequest, toResponse, withHeaders, type IncomingFromRequestOptions } from './lib/fetch-request.js'
export type { IncomingHTTP, OutgoingHTTP } from './lib/incoming.js'
export { RequestAbortedError } from './lib/request-aborted.js'
export { forwardedForAddress } from './lib/forwarded-for.js'
export { nodeClientAddress, nodeRequestSecure } from './lib/client-address.js'

// Sessions of requests a host framework serves with its own routes.
export {
  commitEachOperation,
  createRequestSessions,
  type HTTPSessionStrategy,
  type RequestSession,
  type RequestSessions,
  type RequestSessionsOptions,
  type SessionHeaders,
} from './lib/request-session.js'

// For middleware and protocol packages: the request as middleware sees it, the one origin policy
// and the one bearer-token reader every protocol shares.
export type { HTTPWireInfo } from './lib/http-wire.js'
export { createOriginPolicy, type OriginCheckRequest, type OriginPolicy, type OriginPolicyOptions } from './lib/origin-policy.js'
export { MAX_BEARER_LENGTH, readBearerToken } from './lib/bearer-token.js'

// What a login records about its client (session metadata): the User-Agent's label, the CLI's name.
export { CLIENT_NAME_HEADER, httpSessionMetadata, userAgentLabel } from './lib/client-label.js'
