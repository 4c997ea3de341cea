import { createConsoleLogger, type Logger, UnauthorizedError } from '@pikku/core'
import { createMemoryThrottleBackend } from './memory-backend.js'
import type { ThrottleBackend } from './throttle-backend.js'

/** How many failed logins one key may have within a window. */
export interface LoginThrottleLimit {
  /** Failed logins allowed in one window; the attempt after them is refused until it ends. */
  limit?: number
  /** Length of the window in seconds, counted from the first failure in it. */
  windowSeconds?: number
}

export interface LoginThrottleOptions<In> {
  /**
   * The account a login names, read from the call's validated input, for example
   * `(data) => data.email`. Compared after Unicode and case folding (see `normalizeAccountKey`).
   */
  accountKey: (data: In) => unknown
  /**
   * Where the counts live, or a function making it on first use (so a CLI in remote mode never
   * opens the database).
   * @default createMemoryThrottleBackend()
   */
  backend?: ThrottleBackend | (() => ThrottleBackend)
  /**
   * Failed logins per account, whichever address they come from. `false` turns it off.
   * @default { limit: 5, windowSeconds: 900 }
   */
  perAccount?: LoginThrottleLimit | false
  /**
   * Failed logins per client address (`wire.client.address`), whichever accounts they name.
   * Calls without an address (a local CLI command) are limited per account only. `false` turns it off.
   * @default { limit: 20, windowSeconds: 60 }
   */
  perAddress?: LoginThrottleLimit | false
  /** Which errors thrown by the login count as a failed login. @default error instanceof UnauthorizedError */
  isFailure?: (error: unknown) => boolean
  /**
   * Whether a successful login clears the account's failed logins. The address count never is:
   * one working account must not unlock guessing at others from the same address.
   * @default true
   */
  resetOnSuccess?: boolean
  /** IPv6 addresses are counted per network of this many leading bits. @default 56 */
  ipv6Subnet?: number
  /** Where backend failures are logged. @default a console logger */
  logger?: Logger
}

/** The options with every default filled in and every value checked. */
export interface ResolvedThrottleOptions<In> {
  readonly accountKey: (data: In) => unknown
  readonly backend: ThrottleBackend | (() => ThrottleBackend)
  readonly perAccount: Required<LoginThrottleLimit> | undefined
  readonly perAddress: Required<LoginThrottleLimit> | undefined
  readonly isFailure: (error: unknown) => boolean
  readonly resetOnSuccess: boolean
  readonly ipv6Subnet: number
  readonly logger: Logger
}

export const DEFAULT_PER_ACCOUNT = { limit: 5, windowSeconds: 15 * 60 } as const
export const DEFAULT_PER_ADDRESS = { limit: 20, windowSeconds: 60 } as const
const MAX_WINDOW_SECONDS = 7 * 24 * 60 * 60

/** Checks the options of `createLoginThrottle`; every message says what to change. */
export function resolveThrottleOptions<In>(options: LoginThrottleOptions<In>): ResolvedThrottleOptions<In> {
  if (options === null || typeof options !== 'object') {
    throw new TypeError('createLoginThrottle needs options: { accountKey: (data) => data.email, backend?, perAccount?, perAddress? }')
  }
  if (typeof options.accountKey !== 'function') {
    throw new TypeError('createLoginThrottle: accountKey must be a function returning the account a login names, such as (data) => data.email')
  }
  const backend = options.backend ?? createMemoryThrottleBackend()
  if (typeof backend !== 'function') assertBackend(backend)
  const perAccount = resolveLimit(options.perAccount, DEFAULT_PER_ACCOUNT, 'perAccount')
  const perAddress = resolveLimit(options.perAddress, DEFAULT_PER_ADDRESS, 'perAddress')
  if (perAccount === undefined && perAddress === undefined) {
    throw new TypeError('createLoginThrottle: perAccount and perAddress are both false, so nothing would be limited; keep at least one')
  }
  const isFailure = options.isFailure ?? ((error: unknown) => error instanceof UnauthorizedError)
  if (typeof isFailure !== 'function') throw new TypeError('createLoginThrottle: isFailure must be a function (error) => boolean')
  const resetOnSuccess = options.resetOnSuccess ?? true
  if (typeof resetOnSuccess !== 'boolean') throw new TypeError(`createLoginThrottle: resetOnSuccess must be true or false; got ${JSON.stringify(resetOnSuccess)}`)
  const ipv6Subnet = options.ipv6Subnet ?? 56
  if (!Number.isInteger(ipv6Subnet) || ipv6Subnet < 1 || ipv6Subnet > 128) {
    throw new RangeError(`createLoginThrottle: ipv6Subnet must be a prefix length from 1 to 128 (56 groups a typical subscriber's addresses); got ${String(ipv6Subnet)}`)
  }
  const logger = options.logger ?? createConsoleLogger()
  if (logger === null || typeof logger !== 'object' || typeof logger.error !== 'function' || typeof logger.warn !== 'function') {
    throw new TypeError('createLoginThrottle: logger must have error and warn methods')
  }
  return { accountKey: options.accountKey, backend, perAccount, perAddress, isFailure, resetOnSuccess, ipv6Subnet, logger }
}

function resolveLimit(value: LoginThrottleLimit | false | undefined, defaults: Required<LoginThrottleLimit>, option: string): Required<LoginThrottleLimit> | undefined {
  if (value === false) return undefined
  if (value !== undefined && (value === null || typeof value !== 'object')) {
    throw new TypeError(`createLoginThrottle: ${option} must be { limit?, windowSeconds? } or false; got ${JSON.stringify(value)}`)
  }
  const limit = value?.limit ?? defaults.limit
  const windowSeconds = value?.windowSeconds ?? defaults.windowSeconds
  if (!Number.isInteger(limit) || limit < 1) {
    throw new RangeError(`createLoginThrottle: ${option}.limit must be a whole number of failed logins, at least 1; got ${String(limit)}`)
  }
  if (!Number.isInteger(windowSeconds) || windowSeconds < 1 || windowSeconds > MAX_WINDOW_SECONDS) {
    throw new RangeError(`createLoginThrottle: ${option}.windowSeconds must be a whole number of seconds from 1 to ${MAX_WINDOW_SECONDS} (a week); got ${String(windowSeconds)}`)
  }
  return { limit, windowSeconds }
}

/** Checks what `backend` is or makes. */
export function assertBackend(backend: unknown): asserts backend is ThrottleBackend {
  if (backend === null || typeof backend !== 'object' || typeof (backend as ThrottleBackend).counter !== 'function') {
    throw new TypeError('createLoginThrottle: backend must be a ThrottleBackend, such as createRedisThrottleBackend({ client }), or a function returning one')
  }
}
