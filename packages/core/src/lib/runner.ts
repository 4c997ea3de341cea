import { UnauthorizedError, ForbiddenError } from './errors.js'
import { toPikkuError } from './public-error.js'
import type { AnyPikkuFunction, PikkuFunction } from './function.js'
import { validateInput } from './input-schema.js'
import { createConsoleLogger, type Logger } from './logger.js'
import { runMiddleware, type PikkuMiddleware } from './middleware.js'
import { checkPermissions, type PermissionSpec } from './permission.js'
import type { Services, UserSession } from './register.js'
import { LOGIN_SCOPE } from './session-login-scope.js'
import { SessionState } from './session-state.js'
import type { PikkuWire, SessionlessWire } from './wire.js'

export interface RunnerOptions {
  /** The app's singleton services, passed to every function, middleware and permission. */
  services: Services
  /** Middleware around every function on every protocol (inside protocol middleware). */
  middleware?: readonly PikkuMiddleware[]
  /** Permissions every function must pass in addition to its own. */
  permissions?: PermissionSpec<unknown>
  /**
   * Per-call services derived from the wire (for example a `jwt` service bound to this call's
   * session). They are layered over `services` for the call only.
   */
  wireServices?: (services: Services, wire: PikkuWire) => Partial<Services>
  /** @default a console logger */
  logger?: Logger
}

export interface RunOptions {
  /**
   * Protocol middleware (session loading and persistence): runs outermost, before global and
   * function middleware.
   */
  middleware?: readonly PikkuMiddleware[]
}

export interface ServiceAccount {
  readonly name: string
  /** The session the account's calls see; never persisted to a store. */
  readonly session: UserSession
}

export interface Runner {
  readonly services: Services
  readonly logger: Logger
  /** The global permissions every call must pass (protocols that list functions per caller use them). */
  readonly permissions: PermissionSpec<unknown> | undefined
  /**
   * Runs one call: protocol, global and function middleware, then (innermost) the session check,
   * input validation, permissions and the function. Always rejects with a `PikkuError`: anything
   * else becomes an `InternalServerError` whose detail is logged.
   */
  run<In, Out>(fn: PikkuFunction<In, Out>, data: unknown, wire: PikkuWire, options?: RunOptions): Promise<Out>
  /** Runs a function as a service account: no protocol, no store, its own session and permissions. */
  runAsServiceAccount<In, Out>(account: ServiceAccount, fn: PikkuFunction<In, Out>, data: unknown): Promise<Out>
}

/** Declares a named service account for queue workers and scheduled tasks. */
export function defineServiceAccount(account: ServiceAccount): ServiceAccount {
  if (typeof account?.name !== 'string' || account.name.length === 0) {
    throw new TypeError('defineServiceAccount needs a non-empty name')
  }
  if (typeof account.session?.userId !== 'string' || account.session.userId.length === 0) {
    throw new TypeError(`service account ${account.name} needs a session with a non-empty userId`)
  }
  // A deep, frozen copy: the account's identity and scopes cannot be changed afterwards through
  // the object it was defined from, nor by one of its calls.
  return Object.freeze({ name: account.name, session: deepFreeze(structuredClone(account.session)) })
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key])
    Object.freeze(value)
  }
  return value
}

export function createRunner(options: RunnerOptions): Runner {
  if (options === null || typeof options !== 'object' || options.services === null || typeof options.services !== 'object') {
    throw new TypeError('createRunner needs { services }: the object passed to every function as its first argument')
  }
  const services = options.services
  const logger = options.logger ?? createConsoleLogger()
  const globalMiddleware = options.middleware ?? []
  const globalPermissions = options.permissions
  const wireServices = options.wireServices
  // The middleware list of a function is fixed, so it is combined once and reused.
  const combined = new WeakMap<AnyPikkuFunction, readonly PikkuMiddleware[]>()

  const middlewareFor = (fn: AnyPikkuFunction): readonly PikkuMiddleware[] => {
    let list = combined.get(fn)
    if (list === undefined) {
      list = fn.middleware.length === 0 ? globalMiddleware : [...globalMiddleware, ...fn.middleware]
      combined.set(fn, list)
    }
    return list
  }

  /** One call; always rejects with a PikkuError. (One async layer for the whole call.) */
  const invoke = async <In, Out>(fn: PikkuFunction<In, Out>, data: unknown, wire: PikkuWire, protocolMiddleware: readonly PikkuMiddleware[]): Promise<Out> => {
    // For lifecycle events and telemetry: the protocol that acts on the session in this call.
    wire.session.callProtocol = wire.protocol
    try {
      const callServices = wireServices === undefined ? services : Object.assign(Object.create(services) as Services, wireServices(services, wire))
      const fnMiddleware = middlewareFor(fn)
      const all = protocolMiddleware.length === 0 ? fnMiddleware : fnMiddleware.length === 0 ? protocolMiddleware : [...protocolMiddleware, ...fnMiddleware]
      const sessionlessWire = wire as unknown as SessionlessWire
      if (fn.input === undefined && globalPermissions === undefined && fn.permissions === undefined) {
        // The common shape (no schema, no permissions): fewer promises on the path of every call.
        if (all.length === 0) {
          if (fn.auth && wire.session.current === undefined) throw new UnauthorizedError()
          return await callFunction(fn, callServices, data as In, wire, sessionlessWire)
        }
        let direct: Out | undefined
        await runMiddleware(all, callServices, wire, () => {
          // Checked after middleware, so a session loaded by middleware counts.
          if (fn.auth && wire.session.current === undefined) return Promise.reject(new UnauthorizedError())
          let result: Out | PromiseLike<Out>
          try {
            result = callFunction(fn, callServices, data as In, wire, sessionlessWire)
          } catch (error) {
            return Promise.reject(error)
          }
          if (isThenable(result)) {
            return Promise.resolve(result).then((value) => {
              direct = value
            })
          }
          direct = result
          return Promise.resolve()
        })
        return direct as Out
      }
      let output: Out | undefined
      const inner = async (): Promise<void> => {
        // Checked after middleware, so a session loaded by middleware counts.
        if (fn.auth && wire.session.current === undefined) throw new UnauthorizedError()
        const input = fn.input === undefined ? (data as In) : await validateInput(fn.input, data)
        if (globalPermissions !== undefined || fn.permissions !== undefined) {
          const allowed =
            (globalPermissions === undefined || (await checkPermissions(globalPermissions, callServices, input, sessionlessWire))) &&
            (fn.permissions === undefined || (await checkPermissions(fn.permissions, callServices, input, sessionlessWire)))
          if (!allowed) {
            // A guard that fails for an anonymous caller is a missing login, not a refusal.
            if (wire.session.current === undefined) throw new UnauthorizedError()
            throw new ForbiddenError('You do not have permission to do this')
          }
        }
        output = await callFunction(fn, callServices, input, wire, sessionlessWire)
      }
      await runMiddleware(all, callServices, wire, inner)
      return output as Out
    } catch (error) {
      throw toPikkuError(error, logger)
    }
  }

  return {
    services,
    logger,
    permissions: globalPermissions,

    run(fn, data, wire, runOptions) {
      return invoke(fn, data, wire, runOptions?.middleware ?? [])
    },

    async runAsServiceAccount(account, fn, data) {
      const session = new SessionState<UserSession>()
      // A copy the call may change: the account's own session is frozen.
      session.resumeTransient(structuredClone(account.session))
      const wire: PikkuWire = { protocol: 'service', session, serviceAccount: account.name }
      return invoke(fn, data, wire, [])
    },
  }
}

/**
 * Calls the function itself. The function of an `auth: false` function is where logins happen:
 * while it runs, a `set()` of the same user as the live session is a login too (a new id, the old
 * session ended), as OWASP asks of any authentication. Middleware, permissions and `auth: true`
 * functions change the session in place (decision 017).
 */
function callFunction<In, Out>(fn: PikkuFunction<In, Out>, services: Services, data: In, wire: PikkuWire, functionWire: SessionlessWire): Out | Promise<Out> {
  if (fn.auth) return fn.func(services, data, functionWire)
  const state = wire.session
  const outer = state[LOGIN_SCOPE] === true
  state[LOGIN_SCOPE] = true
  let result: Out | PromiseLike<Out>
  try {
    result = fn.func(services, data, functionWire)
  } catch (error) {
    state[LOGIN_SCOPE] = outer
    throw error
  }
  if (!isThenable(result)) {
    state[LOGIN_SCOPE] = outer
    return result
  }
  return Promise.resolve(result).finally(() => {
    state[LOGIN_SCOPE] = outer
  })
}

function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
}
