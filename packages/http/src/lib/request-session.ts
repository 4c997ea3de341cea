import {
  type CoreUserSession,
  type PikkuMiddleware,
  type PikkuWire,
  type Services,
  type SessionHandle,
  type SessionListEntry,
  type SessionSetOptions,
  type UserSession,
  type UserSessionService,
} from '@pikku/core'
import { runMiddleware, SessionState } from '@pikku/core/protocol'
import { applyCookieOverrides, recordSetCookie, type CookieOverrides } from './cookie-overrides.js'
import type { IncomingHTTP } from './incoming.js'
import { WireInfo } from './wire-info.js'

/**
 * An HTTP session strategy: `createHTTPSessions`, `createEncryptedCookieSessions` or
 * `createStatelessJwtSessions` from `@pikku/middleware-http-session`, or any object whose
 * `middleware` loads the session before `next()` and stores it after, as those do.
 */
export interface HTTPSessionStrategy {
  readonly middleware: PikkuMiddleware
}

export interface RequestSessionsOptions {
  /** The app's HTTP session strategy: the one whose `middleware` the HTTP handler runs. */
  sessions: HTTPSessionStrategy
  /**
   * The services the strategy's middleware receives.
   * @default {} (the bundled strategies use none; pass the runner's when a custom strategy needs them)
   */
  services?: Services
  /** @default Date.now (reads the expiry of cookies the strategy sets) */
  clock?: () => number
}

/** Response headers a request session asks the host to send (Set-Cookie may repeat). */
export type SessionHeaders = readonly (readonly [name: string, value: string])[]

/**
 * The session of a request served by a host framework's own route (an Express route, a Next.js
 * server action): the `UserSessionService` a Pikku function gets, plus `commit`, since no Pikku
 * call wraps the host's code to store what it changed.
 */
export interface RequestSession<S extends CoreUserSession = UserSession> extends UserSessionService<S> {
  /**
   * Stores what changed since the last commit (a login, a change, a logout, or a due renewal of
   * a session that was only read) with the strategy's rules, CSRF check included, and resolves
   * with the headers to add to the response (`Set-Cookie`, `Cache-Control`). Send them with the
   * response, after this resolves: the session is stored before the client can act on it.
   * Rejects with the strategy's `PikkuError` (403 cross-site, 413 too large, 503 store down), and
   * then nothing is stored. The session stays usable: a later change is stored by a later commit.
   */
  commit(): Promise<SessionHeaders>
  /** Forgets what changed since the last commit, storing nothing (the host's handler failed). */
  discard(): Promise<void>
}

/** Opens request sessions with one strategy. */
export interface RequestSessions {
  /**
   * The session of one request. Nothing is read until it is first used; the credential
   * (cookie or bearer token) is read from `request`'s headers by the strategy, exactly as for a
   * Pikku route. `request.readBody` is never called.
   */
  open<S extends CoreUserSession = UserSession>(request: IncomingHTTP): RequestSession<S>
}

const NO_HEADERS: SessionHeaders = Object.freeze([])

/** Rejects the paused `next()` of a discarded run; never leaves this module. */
class Discarded extends Error {}

/**
 * One pass of the strategy's middleware, paused inside `next()`: the session is loaded, and the
 * middleware stores it once the pass is released. Running the strategy's own middleware keeps
 * its rules (credential precedence, CSRF, cookie attributes) in one place.
 */
interface PausedRun {
  readonly state: SessionState<UserSession>
  readonly info: WireInfo
  /** Lets the middleware finish: store (no argument) or unwind with `error`. */
  release(error?: Error): void
  /** Settles when the middleware has finished. */
  readonly done: Promise<void>
}

function startRun(middleware: readonly PikkuMiddleware[], services: Services, request: IncomingHTTP): Promise<PausedRun> {
  const state = new SessionState<UserSession>()
  const info = new WireInfo(request.method, request.path, {}, request.secure, request)
  const wire: PikkuWire =
    request.clientAddress === undefined
      ? { protocol: 'http', session: state, http: info }
      : { protocol: 'http', session: state, http: info, client: { address: request.clientAddress } }
  let reached!: () => void
  const atNext = new Promise<void>((resolve) => (reached = resolve))
  let release!: (error?: Error) => void
  const gate = new Promise<void>((resolve, reject) => {
    release = (error) => (error === undefined ? resolve() : reject(error))
  })
  const done = runMiddleware(middleware, services, wire, () => {
    reached()
    return gate
  })
  // A failure after release is reported by commit(); before it, by the race below. Either way
  // the rejection is handled, so it is never reported as unhandled.
  done.catch(() => undefined)
  return Promise.race([
    atNext.then(() => ({ state, info, release, done })),
    done.then(() => {
      throw new Error(
        "The session strategy's middleware returned without calling next(): a request session needs a strategy that loads the session, calls next() once and stores it afterwards",
      )
    }),
  ])
}

class HostRequestSession<S extends CoreUserSession> implements RequestSession<S> {
  #run: Promise<PausedRun> | undefined
  // Every operation waits for the one before it: a commit never overtakes a change.
  #queue: Promise<unknown> = Promise.resolve()
  #overrides: CookieOverrides = new Map()
  readonly #request: IncomingHTTP

  constructor(
    request: IncomingHTTP,
    private readonly middleware: readonly PikkuMiddleware[],
    private readonly services: Services,
    private readonly clock: () => number,
  ) {
    this.#request = request
  }

  #serial<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(operation)
    this.#queue = result.catch(() => undefined)
    return result
  }

  async #state(): Promise<SessionState<S>> {
    if (this.#run === undefined) {
      const run = startRun(this.middleware, this.services, this.#current())
      this.#run = run
      // A failed load (store down, cross-site request) is retried by the next operation.
      run.catch(() => {
        if (this.#run === run) this.#run = undefined
      })
    }
    return (await this.#run).state as unknown as SessionState<S>
  }

  /** The request as the browser will send it next: with the cookies earlier commits set. */
  #current(): IncomingHTTP {
    const request = this.#request
    const overrides = this.#overrides
    if (overrides.size === 0) return request
    return {
      method: request.method,
      path: request.path,
      query: request.query,
      secure: request.secure,
      localAddress: request.localAddress,
      clientAddress: request.clientAddress,
      header: (name) => (name === 'cookie' ? applyCookieOverrides(request.header('cookie'), overrides) : request.header(name)),
      origin: () => request.origin(),
      readBody: (limit) => request.readBody(limit),
    }
  }

  get(): Promise<S | undefined> {
    return this.#serial(async () => (await this.#state()).get())
  }

  set(session: S, options?: SessionSetOptions): Promise<void> {
    return this.#serial(async () => (await this.#state()).set(session, options))
  }

  update(patch: Partial<Omit<S, 'userId'>>): Promise<S> {
    return this.#serial(async () => (await this.#state()).update(patch))
  }

  clear(): Promise<void> {
    return this.#serial(async () => (await this.#state()).clear())
  }

  list(): Promise<SessionListEntry[]> {
    return this.#serial(async () => (await this.#state()).list())
  }

  revoke(handle: SessionHandle): Promise<void> {
    return this.#serial(async () => (await this.#state()).revoke(handle))
  }

  revokeOthers(): Promise<number> {
    return this.#serial(async () => (await this.#state()).revokeOthers())
  }

  commit(): Promise<SessionHeaders> {
    return this.#serial(async () => {
      const pending = this.#run
      if (pending === undefined) return NO_HEADERS
      this.#run = undefined
      // A session that failed to load has nothing to store; its operation already reported why.
      const run = await pending.catch(() => undefined)
      if (run === undefined) return NO_HEADERS
      run.release()
      await run.done
      const headers = run.info.headers
      if (headers === undefined) return NO_HEADERS
      const now = this.clock()
      for (const [name, value] of headers) if (name === 'set-cookie') recordSetCookie(this.#overrides, value, now)
      return headers
    })
  }

  discard(): Promise<void> {
    return this.#serial(async () => {
      const pending = this.#run
      if (pending === undefined) return
      this.#run = undefined
      const run = await pending.catch(() => undefined)
      if (run === undefined) return
      run.release(new Discarded('discarded'))
      await run.done.catch(() => undefined)
    })
  }
}

/**
 * Sessions for a host framework's own routes, with the same strategy (and so the same cookie,
 * the same store and the same rules) as the Pikku routes. Framework adapters build on it:
 * `@pikku/express`, `@pikku/fastify`, `@pikku/hono`, `@pikku/next`.
 */
export function createRequestSessions(options: RequestSessionsOptions): RequestSessions {
  if (options === null || typeof options !== 'object') {
    throw new TypeError('createRequestSessions needs an options object: { sessions: createHTTPSessions({ … }) }')
  }
  const strategy = options.sessions
  if (strategy === null || typeof strategy !== 'object' || typeof strategy.middleware !== 'function') {
    throw new TypeError(
      'sessions must be an HTTP session strategy with a middleware, such as createHTTPSessions({ sessions }) from @pikku/middleware-http-session',
    )
  }
  const services = options.services ?? ({} as Services)
  if (services === null || typeof services !== 'object') {
    throw new TypeError(`services must be the object of services the strategy's middleware receives; got ${services === null ? 'null' : typeof services}`)
  }
  const clock = options.clock ?? Date.now
  if (typeof clock !== 'function') throw new TypeError(`clock must be a function returning milliseconds; got ${typeof clock}`)
  const middleware = [strategy.middleware]
  return {
    open: <S extends CoreUserSession = UserSession>(request: IncomingHTTP): RequestSession<S> =>
      new HostRequestSession<S>(request, middleware, services, clock),
  }
}

/**
 * A request session's face for hosts with no hook between a route and its response (Express,
 * Next.js): every operation is committed at once, a read included (it stores a due renewal), and
 * its headers handed to `send` before the operation's promise resolves. `beforeChange` runs first
 * for a change and may throw (say, the response was already sent). `send`'s `change` says whether
 * the headers came from a change, which cannot be dropped, or from a read.
 */
export function commitEachOperation<S extends CoreUserSession = UserSession>(
  open: () => RequestSession<S>,
  send: (headers: SessionHeaders, change: boolean) => void,
  beforeChange?: () => void,
): UserSessionService<S> {
  let session: RequestSession<S> | undefined
  const committed = async <T>(operation: (opened: RequestSession<S>) => Promise<T>, change: boolean): Promise<T> => {
    if (change) beforeChange?.()
    const opened = (session ??= open())
    const result = await operation(opened)
    send(await opened.commit(), change)
    return result
  }
  return {
    get: () => committed((opened) => opened.get(), false),
    set: (value, options) => committed((opened) => opened.set(value, options), true),
    update: (patch) => committed((opened) => opened.update(patch), true),
    clear: () => committed((opened) => opened.clear(), true),
    // Listing and revoking act on the store at once; the commit stores a due renewal, as a read does.
    list: () => committed((opened) => opened.list(), false),
    revoke: (handle) => committed((opened) => opened.revoke(handle), false),
    revokeOthers: () => committed((opened) => opened.revokeOthers(), false),
  }
}
