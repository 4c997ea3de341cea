import {
  type CoreUserSession,
  type Logger,
  PikkuError,
  ServiceUnavailableError,
  type SessionStore,
  STORE_UNAVAILABLE_MESSAGE,
} from '@pikku/core'
import { errors } from 'oidc-provider'

/** The OAuth error code of a store outage at the provider's endpoints (503, RFC 6749 4.1.2.1). */
export const TEMPORARILY_UNAVAILABLE = 'temporarily_unavailable'

/**
 * Runs a provider callback (an adapter method, a token hook) so that a store outage reaches the
 * provider as an OAuth error it shows as such, `503 temporarily_unavailable` with the fixed
 * message, instead of `500 server_error`.
 */
export async function asProviderOutage<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (error) {
    if (!(error instanceof ServiceUnavailableError)) throw error
    const outage = new errors.OIDCProviderError(503, TEMPORARILY_UNAVAILABLE, { cause: error })
    outage.error_description = STORE_UNAVAILABLE_MESSAGE
    // The provider hides every 5xx as server_error unless told this one is meant for the client.
    outage.expose = true
    throw outage
  }
}

/** The reverse, for code that calls the provider outside its endpoints (verifying a token). */
export async function asStoreOutage<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (error) {
    if ((error as { error?: unknown }).error === TEMPORARILY_UNAVAILABLE) throw new ServiceUnavailableError(STORE_UNAVAILABLE_MESSAGE, { cause: error })
    throw error
  }
}

/**
 * The OAuth namespace's view of the store with the session manager's outage rule: any failure is
 * `ServiceUnavailableError` with the fixed message (the store's own error, which may quote its
 * driver's connection string, stays the cause, for the log), so an access-token check during an
 * outage answers 503 like every other credential, and no driver message reaches a client.
 */
export function guardStoreErrors<S extends CoreUserSession>(store: SessionStore<S>, logger: Logger): SessionStore<S> {
  const fail = (operation: string, error: unknown): never => {
    if (error instanceof PikkuError && (error.code !== 'SERVICE_UNAVAILABLE' || error.message === STORE_UNAVAILABLE_MESSAGE)) throw error
    logger.error(`session store failed during OAuth ${operation}`, { error })
    throw new ServiceUnavailableError(STORE_UNAVAILABLE_MESSAGE, { cause: error })
  }
  const guard = <A extends unknown[], R>(operation: string, run: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      try {
        return await run(...args)
      } catch (error) {
        return fail(operation, error)
      }
    }
  return {
    get: guard('get', (id) => store.get(id)),
    set: guard('set', (record) => store.set(record)),
    update: guard('update', (id, version, change) => store.update(id, version, change)),
    touch: guard('touch', (id, lastActiveAt, expiresAt) => store.touch(id, lastActiveAt, expiresAt)),
    delete: guard('delete', (id, reason) => store.delete(id, reason)),
    listByUser: guard('listByUser', (userId) => store.listByUser(userId)),
    deleteByUser: guard('deleteByUser', (userId, options) => store.deleteByUser(userId, options)),
    subscribe: (listener) => store.subscribe(listener),
  }
}
