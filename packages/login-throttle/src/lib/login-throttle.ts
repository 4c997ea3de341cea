import { createHash } from 'node:crypto'
import {
  BadRequestError,
  type PikkuErrorCode,
  type PikkuFunction,
  type Services,
  type SessionlessWire,
  ServiceUnavailableError,
  TooManyRequestsError,
} from '@pikku/core'
import { normalizeAccountKey } from './account-key.js'
import { addressBucket } from './client-address.js'
import { retryAfterText } from './retry-after-text.js'
import type { ThrottleCount, ThrottleCounter } from './throttle-backend.js'
import { assertBackend, type LoginThrottleOptions, resolveThrottleOptions } from './throttle-options.js'

export interface LoginThrottle<In> {
  /**
   * The login function with throttling around it, on every protocol it is wired to. Everything
   * else about the function (name, input schema, permissions, middleware, docs) stays the same.
   */
  protect<Out>(fn: PikkuFunction<In, Out>): PikkuFunction<In, Out>
  /** Forgets an account's failed logins, for example after a password reset or to unlock it by hand. */
  reset(account: string): Promise<void>
}

/** One counter with its limit, and the key of this call in it. */
interface Hit {
  readonly kind: 'account' | 'address'
  readonly counter: ThrottleCounter
  readonly limit: number
  readonly key: string
}

interface Counters {
  readonly accounts: ThrottleCounter | undefined
  readonly addresses: ThrottleCounter | undefined
}

/**
 * Limits failed logins per account and per client address. Every attempt is counted before the
 * login runs (so a burst of parallel guesses cannot all get through before the first failure is
 * recorded) and taken back when it turns out not to be a failure. An attempt over either limit is
 * refused with `TooManyRequestsError` before the login runs: the password is not checked, and the
 * answer is the same whether or not the account exists.
 */
export function createLoginThrottle<In>(options: LoginThrottleOptions<In>): LoginThrottle<In> {
  const config = resolveThrottleOptions(options)
  const { logger } = config

  let counters: Counters | undefined
  /** The counters, made on first use when the backend is given as a function (and retried if that fails). */
  const getCounters = (): Counters => {
    if (counters !== undefined) return counters
    const backend = typeof config.backend === 'function' ? config.backend() : config.backend
    assertBackend(backend)
    counters = {
      accounts: config.perAccount === undefined ? undefined : backend.counter('account', config.perAccount.windowSeconds),
      addresses: config.perAddress === undefined ? undefined : backend.counter('address', config.perAddress.windowSeconds),
    }
    return counters
  }
  if (typeof config.backend !== 'function') getCounters()

  const unavailable = (cause: unknown): ServiceUnavailableError => {
    logger.error('login throttle: the counter backend failed, so the login was refused', { error: cause })
    return new ServiceUnavailableError('Logging in is unavailable right now; try again later', { cause })
  }

  /** Counts the attempt in each counter; refuses it when it is over a limit or cannot be counted. */
  const begin = async (data: In, wire: SessionlessWire): Promise<Hit[]> => {
    let accounts: ThrottleCounter | undefined
    let addresses: ThrottleCounter | undefined
    try {
      ;({ accounts, addresses } = getCounters())
    } catch (error) {
      throw unavailable(error)
    }
    const hits: Hit[] = []
    if (accounts !== undefined && config.perAccount !== undefined) {
      let named: unknown
      try {
        named = config.accountKey(data)
      } catch {
        named = undefined
      }
      const account = normalizeAccountKey(named)
      if (account === undefined) throw new BadRequestError('The login request names no account')
      hits.push({ kind: 'account', counter: accounts, limit: config.perAccount.limit, key: hashKey(account) })
    }
    const bucket = addressBucket(wire.client?.address, config.ipv6Subnet)
    if (addresses !== undefined && config.perAddress !== undefined && bucket !== undefined) {
      hits.push({ kind: 'address', counter: addresses, limit: config.perAddress.limit, key: hashKey(bucket) })
    }
    const outcomes = await Promise.allSettled(hits.map((hit) => hit.counter.hit(hit.key)))
    const failed = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected')
    const refused = outcomes.flatMap((outcome, index) =>
      outcome.status === 'fulfilled' && outcome.value.count > hits[index]!.limit ? [outcome.value] : [],
    )
    if (failed === undefined && refused.length === 0) return hits
    // The attempt does not run: take it back wherever it was counted within the limit.
    await Promise.all(
      outcomes.map((outcome, index) =>
        outcome.status === 'fulfilled' && outcome.value.count <= hits[index]!.limit ? settle(hits[index]!.counter.undo(hits[index]!.key), 'undo') : undefined,
      ),
    )
    if (failed !== undefined) throw unavailable(failed.reason)
    const seconds = Math.max(1, Math.ceil(Math.max(...refused.map((count: ThrottleCount) => count.resetsInMs)) / 1000))
    // One message whichever limit was hit and whether or not the account exists.
    throw new TooManyRequestsError(`Too many failed login attempts. Try again in ${retryAfterText(seconds)}.`, { retryAfter: seconds })
  }

  const settle = async (operation: Promise<void>, what: string): Promise<void> => {
    try {
      await operation
    } catch (error) {
      // Only costs precision: a count that was not taken back stays until its window ends.
      logger.warn(`login throttle: could not ${what} a count`, { error })
    }
  }

  /** After the login ran: keep the count for a failure, take it back otherwise. */
  const finish = (hits: readonly Hit[], outcome: 'success' | 'failure' | 'other'): Promise<unknown> => {
    if (outcome === 'failure') return Promise.resolve()
    return Promise.all(
      hits.map((hit) =>
        outcome === 'success' && hit.kind === 'account' && config.resetOnSuccess ? settle(hit.counter.clear(hit.key), 'clear') : settle(hit.counter.undo(hit.key), 'undo'),
      ),
    )
  }

  return {
    protect<Out>(fn: PikkuFunction<In, Out>): PikkuFunction<In, Out> {
      if (fn === null || typeof fn !== 'object' || fn.kind !== 'pikku-function') {
        throw new TypeError('protect takes a function made with pikkuFunc or pikkuSessionlessFunc')
      }
      const login = fn.func
      const func = async (services: Services, data: In, wire: SessionlessWire): Promise<Out> => {
        const hits = await begin(data, wire)
        let result: Out
        try {
          result = await login(services, data, wire)
        } catch (error) {
          await finish(hits, config.isFailure(error) ? 'failure' : 'other')
          throw error
        }
        await finish(hits, 'success')
        return result
      }
      const errors: readonly PikkuErrorCode[] = fn.docs?.errors ?? []
      const docs = fn.docs === undefined ? undefined : { ...fn.docs, errors: errors.includes('TOO_MANY_REQUESTS') ? errors : [...errors, 'TOO_MANY_REQUESTS' as const] }
      return Object.freeze({ ...fn, func, docs })
    },

    async reset(account: string): Promise<void> {
      const key = normalizeAccountKey(account)
      if (key === undefined) throw new TypeError(`reset needs the account a login names; got ${JSON.stringify(account)}`)
      await getCounters().accounts?.clear(hashKey(key))
    },
  }
}

/**
 * Keys are stored hashed: no email address or IP address sits in plain text in Redis or a table,
 * and every key has the same short length. (A hash of a guessable value is not anonymous; it only
 * keeps the values out of casual view.)
 */
function hashKey(value: string): string {
  return createHash('sha256').update(value).digest('base64url')
}
