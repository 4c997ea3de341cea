import type { AnyPikkuFunction, PikkuMiddleware } from '@pikku/core'

export type HTTPMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

const METHODS: readonly HTTPMethod[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']

/** One function served at one method and path. */
export interface HTTPRoute {
  readonly method: HTTPMethod
  /** Path with `:name` parameters, e.g. `/users/:id`. */
  readonly route: string
  readonly func: AnyPikkuFunction
  /**
   * Require a session even if the function does not. A route can tighten a function's
   * requirement, never loosen it: a `pikkuFunc` always requires a session.
   * @default the function's own requirement
   */
  readonly auth?: boolean
  /** Middleware for this route only: runs after the protocol (session) middleware, before global and function middleware. */
  readonly middleware?: readonly PikkuMiddleware[]
  /**
   * Query parameters a POST, PUT or PATCH route takes as data besides its JSON body (for example
   * `['dryRun']`). Any other query parameter on such a route is refused with 400, so credentials
   * sent in a URL (`POST /login?password=…`), which access logs and browser history keep, never
   * reach a function. GET and DELETE routes take every query parameter as data and do not declare them.
   * @default [] (the body only)
   */
  readonly query?: readonly string[]
}

export interface CompiledRoute extends HTTPRoute {
  readonly segments: readonly string[]
  readonly paramNames: readonly (string | undefined)[]
  readonly requiresSession: boolean
  /**
   * The query parameters merged into the data: undefined for every one (GET, DELETE), otherwise
   * the declared names (POST, PUT, PATCH; empty when none are declared).
   */
  readonly queryNames: ReadonlySet<string> | undefined
}

/** Methods whose data travels in the body: their query string carries only declared parameters. */
const BODY_DATA_METHODS: ReadonlySet<HTTPMethod> = new Set(['POST', 'PUT', 'PATCH'])
const NO_NAMES: ReadonlySet<string> = new Set()

const SEGMENT = /^(?::[A-Za-z_][A-Za-z0-9_]*|[A-Za-z0-9._~!$&'()*+,;=@-]*)$/

/** Declares an HTTP route; validated now, not on the first request. */
export function wireHTTP(route: HTTPRoute): HTTPRoute {
  if (!METHODS.includes(route.method)) {
    throw new TypeError(`wireHTTP: method must be one of ${METHODS.join(', ')}; got ${JSON.stringify(route.method)}`)
  }
  if (typeof route.route !== 'string' || !route.route.startsWith('/')) {
    throw new TypeError(`wireHTTP: route must be a path starting with '/'; got ${JSON.stringify(route.route)}`)
  }
  for (const segment of route.route.split('/').slice(1)) {
    if (!SEGMENT.test(segment)) {
      throw new TypeError(`wireHTTP: route ${route.route} has an invalid segment ${JSON.stringify(segment)}`)
    }
  }
  if (route.func?.kind !== 'pikku-function') {
    throw new TypeError(`wireHTTP: func for ${route.method} ${route.route} must come from pikkuFunc or pikkuSessionlessFunc`)
  }
  if (route.query !== undefined) {
    if (!BODY_DATA_METHODS.has(route.method)) {
      throw new TypeError(
        `wireHTTP: query is for POST, PUT and PATCH routes; ${route.method} ${route.route} takes every query parameter as data already, remove query`,
      )
    }
    if (!Array.isArray(route.query) || route.query.some((name: unknown) => typeof name !== 'string' || name.length === 0)) {
      throw new TypeError(`wireHTTP: query for ${route.method} ${route.route} must be an array of parameter names such as ['dryRun']; got ${JSON.stringify(route.query)}`)
    }
  }
  return route
}

export function compileRoute(route: HTTPRoute): CompiledRoute {
  const segments = route.route === '/' ? [] : route.route.split('/').slice(1)
  const paramNames = segments.map((segment) => (segment.startsWith(':') ? segment.slice(1) : undefined))
  return {
    ...route,
    segments,
    paramNames,
    requiresSession: route.func.auth || route.auth === true,
    queryNames: BODY_DATA_METHODS.has(route.method) ? (route.query === undefined || route.query.length === 0 ? NO_NAMES : new Set(route.query)) : undefined,
  }
}
