import type { StandardSchemaV1 } from '@standard-schema/spec'
import type { PikkuErrorCode } from './errors.js'
import type { PikkuMiddleware } from './middleware.js'
import type { PermissionSpec } from './permission.js'
import type { Services } from './register.js'
import type { AuthedWire, SessionlessWire } from './wire.js'

/** Metadata protocols show to people and agents: MCP tool descriptions, CLI help, HTTP docs. */
export interface FunctionDocs {
  summary: string
  description?: string
  tags?: readonly string[]
  /** Error codes the function documents as possible outcomes. */
  errors?: readonly PikkuErrorCode[]
}

interface FunctionConfigBase<In> {
  /**
   * Stable name protocols use (MCP tool name, CLI command, channel routing). When omitted, the key
   * the function is registered under in a protocol's function map is used.
   */
  name?: string
  /** Guards evaluated after authentication and input validation. */
  permissions?: PermissionSpec<In>
  /** Middleware that runs around this function only, inside global middleware. */
  middleware?: readonly PikkuMiddleware[]
  /** Runtime schema (Standard Schema) for the input; validated before `func` on every protocol. */
  input?: StandardSchemaV1<unknown, In>
  docs?: FunctionDocs
}

export interface PikkuFuncConfig<In, Out> extends FunctionConfigBase<In> {
  func: (services: Services, data: In, wire: AuthedWire) => Promise<Out> | Out
  /** A session is required; calls without one are refused with `UnauthorizedError`. @default true */
  auth?: true
}

export interface PikkuSessionlessFuncConfig<In, Out> extends FunctionConfigBase<In> {
  func: (services: Services, data: In, wire: SessionlessWire) => Promise<Out> | Out
  /** The session may be absent. @default false */
  auth?: false
}

/** A function ready to be wired to any protocol. */
export interface PikkuFunction<In = unknown, Out = unknown> {
  readonly kind: 'pikku-function'
  readonly name: string | undefined
  /** Whether a session is required. */
  readonly auth: boolean
  readonly permissions: PermissionSpec<In> | undefined
  readonly middleware: readonly PikkuMiddleware[]
  readonly input: StandardSchemaV1<unknown, In> | undefined
  readonly docs: FunctionDocs | undefined
  /** The implementation; the runner guarantees a session before calling it when `auth` is true. */
  readonly func: (services: Services, data: In, wire: SessionlessWire) => Promise<Out> | Out
}

/** Any function, whatever its input and output types (for maps of functions). */
// Function parameters are contravariant, so a map of differently typed functions needs `any` here;
// it never reaches callers, who get each function's own types.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyPikkuFunction = PikkuFunction<any, any>

const NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/

function assertFunctionName(name: string, where: string): void {
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    throw new TypeError(
      `${where}: name must start with a letter and use only letters, digits, '_', '.' or '-' (at most 64); got ${JSON.stringify(name)}`,
    )
  }
}

function build<In, Out>(config: FunctionConfigBase<In> & { func: unknown }, auth: boolean, wrapper: string): PikkuFunction<In, Out> {
  if (config === null || typeof config !== 'object' || typeof config.func !== 'function') {
    throw new TypeError(`${wrapper} needs { func: async (services, data, wire) => … }`)
  }
  if (config.name !== undefined) assertFunctionName(config.name, wrapper)
  if (config.input !== undefined && typeof config.input['~standard']?.validate !== 'function') {
    throw new TypeError(`${wrapper}: input must be a Standard Schema (zod 4, valibot, arktype…)`)
  }
  if (config.docs !== undefined && (typeof config.docs.summary !== 'string' || config.docs.summary.length === 0)) {
    throw new TypeError(`${wrapper}: docs.summary must be a non-empty string`)
  }
  return Object.freeze({
    kind: 'pikku-function' as const,
    name: config.name,
    auth,
    permissions: config.permissions,
    middleware: Object.freeze([...(config.middleware ?? [])]),
    input: config.input,
    docs: config.docs,
    func: config.func as PikkuFunction<In, Out>['func'],
  })
}

/** A function that requires a session: `await session.get()` is the app's `UserSession`. */
export function pikkuFunc<In = void, Out = unknown>(config: PikkuFuncConfig<In, Out>): PikkuFunction<In, Out> {
  if ((config as { auth?: unknown }).auth === false) {
    throw new TypeError('pikkuFunc always requires a session; use pikkuSessionlessFunc for auth: false')
  }
  return build(config, true, 'pikkuFunc')
}

/** A function that works with or without a session: `await session.get()` may be undefined. */
export function pikkuSessionlessFunc<In = void, Out = unknown>(config: PikkuSessionlessFuncConfig<In, Out>): PikkuFunction<In, Out> {
  if ((config as { auth?: unknown }).auth === true) {
    throw new TypeError('pikkuSessionlessFunc never requires a session; use pikkuFunc for auth: true')
  }
  return build(config, false, 'pikkuSessionlessFunc')
}

/**
 * Resolves a function's stable name: explicit `name`, else the key it is registered under. A key
 * is held to the same rules as an explicit name, since it becomes an MCP tool name or CLI command.
 */
export function functionName(fn: AnyPikkuFunction, key: string): string {
  if (fn.name !== undefined) return fn.name
  assertFunctionName(key, 'functionName')
  return key
}
