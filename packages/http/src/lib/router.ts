import { compileRoute, type CompiledRoute, type HTTPMethod, type HTTPRoute } from './route.js'

export interface RouteMatch {
  readonly route: CompiledRoute
  readonly params: Readonly<Record<string, string>>
}

export type RouteLookup =
  | { readonly kind: 'match'; readonly match: RouteMatch }
  | { readonly kind: 'wrong-method'; readonly allowed: readonly HTTPMethod[] }
  | { readonly kind: 'none' }

const NO_PARAMS: Readonly<Record<string, string>> = Object.freeze({})

/**
 * Static paths are a single map lookup; parameterised paths are matched segment by segment. The
 * route table is small, so this beats a radix tree on clarity at no measurable cost.
 */
export class Router {
  // A static route's lookup answer never changes: built once, so a lookup allocates nothing.
  readonly #static = new Map<string, Map<string, RouteLookup>>()
  readonly #dynamic: CompiledRoute[] = []

  constructor(routes: readonly HTTPRoute[]) {
    for (const route of routes) {
      const compiled = compileRoute(route)
      if (compiled.paramNames.some((name) => name !== undefined)) {
        if (this.#dynamic.some((other) => other.method === compiled.method && other.route === compiled.route)) {
          throw new Error(`Two routes for ${compiled.method} ${compiled.route}`)
        }
        this.#dynamic.push(compiled)
        continue
      }
      const path = normalise(compiled.route)
      let byMethod = this.#static.get(path)
      if (byMethod === undefined) this.#static.set(path, (byMethod = new Map()))
      if (byMethod.has(compiled.method)) throw new Error(`Two routes for ${compiled.method} ${compiled.route}`)
      byMethod.set(compiled.method, Object.freeze({ kind: 'match', match: Object.freeze({ route: compiled, params: NO_PARAMS }) }))
    }
  }

  lookup(method: string, rawPath: string): RouteLookup {
    const path = normalise(rawPath)
    const byMethod = this.#static.get(path)
    const exact = byMethod?.get(method)
    if (exact !== undefined) return exact
    const allowed: HTTPMethod[] = byMethod === undefined ? [] : [...byMethod.keys()] as HTTPMethod[]
    if (this.#dynamic.length > 0) {
      const segments = path === '/' ? [] : path.split('/').slice(1)
      for (const route of this.#dynamic) {
        const params = matchSegments(route, segments)
        if (params === undefined) continue
        if (route.method === method) return { kind: 'match', match: { route, params } }
        allowed.push(route.method)
      }
    }
    return allowed.length > 0 ? { kind: 'wrong-method', allowed } : { kind: 'none' }
  }
}

function normalise(path: string): string {
  // charCodeAt rather than endsWith: this runs on every request.
  return path.length > 1 && path.charCodeAt(path.length - 1) === 47 /* / */ ? path.slice(0, -1) : path
}

function matchSegments(route: CompiledRoute, segments: readonly string[]): Record<string, string> | undefined {
  if (route.segments.length !== segments.length) return undefined
  const params: Record<string, string> = {}
  for (let i = 0; i < segments.length; i++) {
    const name = route.paramNames[i]
    const actual = segments[i] as string
    if (name === undefined) {
      if (route.segments[i] !== actual) return undefined
      continue
    }
    if (actual.length === 0) return undefined
    try {
      params[name] = decodeURIComponent(actual)
    } catch {
      // A malformed percent-escape cannot match any route.
      return undefined
    }
  }
  return params
}
