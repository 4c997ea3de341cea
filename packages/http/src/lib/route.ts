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
}

export interface CompiledRoute extends HTTPRoute {
  readonly segments: readonly string[]
  readonly paramNames: readonly (string | undefined)[]
  readonly requiresSession: boolean
}

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
  }
}
