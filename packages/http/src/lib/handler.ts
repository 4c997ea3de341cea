import {
  type AnyPikkuFunction,
  type PikkuMiddleware,
  type PikkuWire,
  type Runner,
  UnauthorizedError,
  NotFoundError,
} from '@pikku/core'
import { SessionState } from '@pikku/core/protocol'
import { errorResponse, JSON_TYPE } from './error-response.js'
import type { IncomingHTTP, OutgoingHTTP } from './incoming.js'
import { isRequestAborted } from './request-aborted.js'
import { acceptQuery, mergeRequestData, parseJSONBody, parseQuery, requireObjectData } from './request-data.js'
import { wireHTTP, type HTTPMethod, type HTTPRoute } from './route.js'
import { Router } from './router.js'
import { WireInfo } from './wire-info.js'

export interface HTTPRequestLog {
  readonly method: string
  readonly path: string
  readonly status: number
  readonly durationMs: number
  /** Error code when the request failed. */
  readonly error?: string
  /**
   * True when the client went away before its request was read (status 499, nothing sent): not a
   * server error, and worth logging at debug level at most.
   */
  readonly aborted?: true
}

export interface HTTPHandlerOptions {
  /** Runs the functions (services, global middleware, permissions, logger). */
  runner: Runner
  /** The routes served. */
  routes: readonly HTTPRoute[]
  /**
   * HTTP protocol middleware, outermost on every route: session strategies and CSRF checks go
   * here, so they load the session before global middleware and persist it before the response.
   * @default []
   */
  middleware?: readonly PikkuMiddleware[]
  /**
   * Also serve `POST <path>/<name>` for each function in `functions`, with the JSON body as data:
   * one endpoint per function for RPC clients (the CLI's remote mode, scripts).
   * @default undefined (no RPC endpoint)
   */
  rpc?: { path: string; functions: Readonly<Record<string, AnyPikkuFunction>> }
  /**
   * Largest request body accepted, in bytes; larger ones get 413.
   * @default 1_048_576 (1 MiB)
   */
  bodyLimit?: number
  /** Called once per request after the response is ready (for request logging). */
  onResponse?: (entry: HTTPRequestLog) => void
}

/** A transport-neutral HTTP handler; use `toFetchHandler` or `toNodeListener` to serve it. */
export interface HTTPHandler {
  handle(request: IncomingHTTP): Promise<OutgoingHTTP>
}

/** What `createHTTPHandler` returns: a handler that also says which routes it serves. */
export interface RoutedHTTPHandler extends HTTPHandler {
  /**
   * Whether a route serves this method and path: a framework adapter passes every other request
   * on to the host framework's own routes.
   */
  has(method: string, path: string): boolean
  /** The method and path of every route served (RPC endpoints included), for adapters that register them with a host router. */
  readonly routes: readonly { readonly method: HTTPMethod; readonly route: string }[]
}

const JSON_HEADER: readonly [string, string] = ['content-type', JSON_TYPE]
// Shared by every response that adds no header of its own; never mutated.
const JSON_HEADERS: readonly (readonly [string, string])[] = [JSON_HEADER]
const METHODS_WITH_BODY = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])
// nginx's "client closed request": only ever logged, never sent.
const ABORTED: OutgoingHTTP = { status: 499, headers: [], body: '', aborted: true }

function hasHeader(headers: readonly (readonly [string, string])[], name: string): boolean {
  for (const header of headers) if (header[0] === name) return true
  return false
}

export function createHTTPHandler(options: HTTPHandlerOptions): RoutedHTTPHandler {
  const { runner } = options
  if (runner === undefined || typeof runner.run !== 'function') {
    throw new TypeError('createHTTPHandler needs { runner }: create one with createRunner from @pikku/core')
  }
  const bodyLimit = options.bodyLimit ?? 1_048_576
  if (!Number.isInteger(bodyLimit) || bodyLimit < 0) {
    throw new RangeError(`bodyLimit must be a whole number of bytes; got ${bodyLimit}`)
  }
  const routes: HTTPRoute[] = [...options.routes]
  if (options.rpc !== undefined) {
    const base = options.rpc.path.endsWith('/') ? options.rpc.path.slice(0, -1) : options.rpc.path
    for (const [name, func] of Object.entries(options.rpc.functions)) {
      routes.push(wireHTTP({ method: 'POST', route: `${base}/${func.name ?? name}`, func }))
    }
  }
  const router = new Router(routes)
  const protocolMiddleware = options.middleware ?? []
  const onResponse = options.onResponse

  // A route can demand a session for a sessionless function; checked after the session loads.
  const requireSession: PikkuMiddleware = async (_services, wire, next) => {
    if (wire.session.current === undefined) throw new UnauthorizedError()
    await next()
  }
  const middlewareCache = new WeakMap<object, readonly PikkuMiddleware[]>()
  const middlewareFor = (route: ReturnType<Router['lookup']> & { kind: 'match' }): readonly PikkuMiddleware[] => {
    const compiled = route.match.route
    let list = middlewareCache.get(compiled)
    if (list === undefined) {
      list = [
        ...protocolMiddleware,
        ...(compiled.requiresSession && !compiled.func.auth ? [requireSession] : []),
        ...(compiled.middleware ?? []),
      ]
      middlewareCache.set(compiled, list)
    }
    return list
  }

  const respondError = (error: unknown, info: WireInfo | undefined, extraHeaders?: [string, string][]): OutgoingHTTP =>
    errorResponse(error, runner.logger, extraHeaders === undefined ? info?.headers : [...extraHeaders, ...(info?.headers ?? [])])

  const handle = async (request: IncomingHTTP): Promise<OutgoingHTTP> => {
    const found = router.lookup(request.method, request.path)
    if (found.kind === 'none') {
      return respondError(new NotFoundError(`No route for ${request.method} ${request.path}`), undefined)
    }
    if (found.kind === 'wrong-method') {
      return respondError(new NotFoundError(`${request.path} does not accept ${request.method}`), undefined, [['allow', found.allowed.join(', ')]])
    }
    const { route, params } = found.match
    const info = new WireInfo(request.method, request.path, params, request.secure, request)
    try {
      // Checked before the body is read: a refused query string costs nothing more.
      const query = request.query.length === 0 ? undefined : acceptQuery(parseQuery(request.query), route.queryNames, `${route.method} ${route.route}`)
      let body: unknown
      if (METHODS_WITH_BODY.has(request.method)) {
        const parsed = request.parsedBody
        body = parsed === undefined ? parseJSONBody(await request.readBody(bodyLimit), request.header('content-type')) : parsed.value
      }
      const data = mergeRequestData(params, query, body)
      if (route.func.input === undefined) requireObjectData(data, `${route.method} ${route.route}`)
      const clientAddress = request.clientAddress
      const wire: PikkuWire =
        clientAddress === undefined
          ? { protocol: 'http', session: new SessionState(), http: info }
          : { protocol: 'http', session: new SessionState(), http: info, client: { address: clientAddress } }
      const result = await runner.run(route.func, data, wire, { middleware: middlewareFor(found) })
      // Serialised first: a result JSON cannot carry (a BigInt, a cycle) is answered as an error.
      const responseBody = result === undefined ? 'null' : (JSON.stringify(result) ?? 'null')
      // The call's own header list is not used after this: it becomes the response's (header
      // order carries no meaning, except among repeated names, which this keeps).
      const own = info.headers
      let headers: readonly (readonly [string, string])[] = JSON_HEADERS
      if (own !== undefined) {
        // A Content-Type the call set replaces the JSON one.
        if (!hasHeader(own, 'content-type')) own.push(JSON_HEADER as [string, string])
        headers = own
      }
      return { status: info.status ?? 200, headers, body: responseBody }
    } catch (error) {
      if (isRequestAborted(error)) {
        runner.logger.debug('HTTP request aborted by the client before its body was read', { method: request.method, path: request.path })
        return ABORTED
      }
      return respondError(error, info)
    }
  }

  const has = (method: string, path: string): boolean => router.lookup(method, path).kind === 'match'
  const served = routes.map(({ method, route }) => ({ method, route }))
  if (onResponse === undefined) return { handle, has, routes: served }
  return {
    has,
    routes: served,
    async handle(request) {
      const started = performance.now()
      const response = await handle(request)
      if (response.aborted === true) {
        onResponse({ method: request.method, path: request.path, status: response.status, durationMs: performance.now() - started, aborted: true })
        return response
      }
      let code: string | undefined
      if (response.status >= 400) {
        try {
          code = (JSON.parse(response.body) as { error?: { code?: string } }).error?.code
        } catch {
          code = undefined
        }
      }
      onResponse({
        method: request.method,
        path: request.path,
        status: response.status,
        durationMs: performance.now() - started,
        ...(code === undefined ? {} : { error: code }),
      })
      return response
    },
  }
}
