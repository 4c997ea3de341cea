import {
  type AnyPikkuFunction,
  type PikkuMiddleware,
  type PikkuWire,
  type Runner,
  SessionState,
  toPublicError,
  UnauthorizedError,
  NotFoundError,
  type PublicError,
  TooManyRequestsError,
} from '@pikku/core'
import { HTTP_STATUS } from './http-status.js'
import type { HTTPWireInfo } from './http-wire.js'
import type { IncomingHTTP, OutgoingHTTP } from './incoming.js'
import { isRequestAborted } from './request-aborted.js'
import { acceptQuery, mergeRequestData, parseJSONBody, parseQuery } from './request-data.js'
import { wireHTTP, type HTTPRoute } from './route.js'
import { Router } from './router.js'

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

const JSON_TYPE = 'application/json; charset=utf-8'
const JSON_HEADER: readonly [string, string] = ['content-type', JSON_TYPE]
// Shared by every response that adds no header of its own; never mutated.
const JSON_HEADERS: readonly (readonly [string, string])[] = [JSON_HEADER]
const METHODS_WITH_BODY = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])
// nginx's "client closed request": only ever logged, never sent.
const ABORTED: OutgoingHTTP = { status: 499, headers: [], body: '', aborted: true }

// Header names are nearly always the same few constants: remember the last one lowered.
let lastName = ''
let lastLower = ''
function lowerCase(name: string): string {
  if (name !== lastName) {
    lastLower = name.toLowerCase()
    lastName = name
  }
  return lastLower
}

class WireInfo implements HTTPWireInfo {
  status: number | undefined = undefined
  headers: [string, string][] | undefined = undefined

  constructor(
    readonly method: string,
    readonly path: string,
    readonly params: Readonly<Record<string, string>>,
    readonly secure: boolean,
    private readonly request: IncomingHTTP,
  ) {}

  get origin(): string | undefined {
    return this.request.origin()
  }

  get localAddress(): string | undefined {
    return this.request.localAddress
  }

  header(name: string): string | undefined {
    return this.request.header(name)
  }

  setHeader(name: string, value: string): void {
    const lower = lowerCase(name)
    const headers = this.headers
    if (headers === undefined) {
      // The common case: a session middleware sets Cache-Control and nothing else.
      this.headers = [[lower, value]]
      return
    }
    // Replace in place.
    let kept = 0
    for (const header of headers) if (header[0] !== lower) headers[kept++] = header
    headers.length = kept
    headers.push([lower, value])
  }

  appendHeader(name: string, value: string): void {
    ;(this.headers ??= []).push([lowerCase(name), value])
  }
}

function hasHeader(headers: readonly (readonly [string, string])[], name: string): boolean {
  for (const header of headers) if (header[0] === name) return true
  return false
}

function errorBody(error: PublicError): string {
  return JSON.stringify({ error })
}

export function createHTTPHandler(options: HTTPHandlerOptions): HTTPHandler {
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

  const respondError = (error: unknown, info: WireInfo | undefined, extraHeaders?: [string, string][]): OutgoingHTTP => {
    const publicError = toPublicError(error, runner.logger)
    // An error is always answered in JSON, whatever type the call meant to send.
    const headers: [string, string][] = [['content-type', JSON_TYPE], ...(extraHeaders ?? []), ...(info?.headers ?? []).filter(([name]) => name !== 'content-type')]
    // RFC 9110 section 10.2.3: a 429 says when to come back, in seconds.
    if (error instanceof TooManyRequestsError && error.retryAfter !== undefined) headers.push(['retry-after', String(error.retryAfter)])
    return { status: HTTP_STATUS[publicError.code], headers, body: errorBody(publicError) }
  }

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
        body = parseJSONBody(await request.readBody(bodyLimit), request.header('content-type'))
      }
      const data = mergeRequestData(params, query, body)
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

  if (onResponse === undefined) return { handle }
  return {
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
