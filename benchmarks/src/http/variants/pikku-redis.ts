import type { SessionCacheOptions, SessionRecord, SessionStore } from '@pikku/core'
import { pathToFileURL } from 'node:url'
import type * as RedisStoreModule from '@pikku/session-store-redis'
import type { Profile } from '../app.js'
import type { RunningVariant } from '../variant.js'
import { startPikku } from './pikku-app.js'

// BENCH_REDIS_STORE_MODULE: the path of another build of the store's index.js (such as one built
// from the previous commit), to count instructions before and after a change side by side.
const storeModule = process.env['BENCH_REDIS_STORE_MODULE']
const { createRedisStore } = (
  storeModule === undefined ? await import('@pikku/session-store-redis') : await import(pathToFileURL(storeModule).href)
) as typeof RedisStoreModule

/** Longer connect and command deadlines when BENCH_STORE_TIMEOUT_MS is set. */
function storeTimeouts(): { connectTimeout?: number; commandTimeout?: number } {
  const ms = Number(process.env['BENCH_STORE_TIMEOUT_MS'] ?? 0)
  return ms > 0 ? { connectTimeout: ms, commandTimeout: ms } : {}
}

/** Pikku cookie sessions on the local Redis (REDIS_URL, default 127.0.0.1:6379) under a key prefix of this run's own. */
export function startPikkuOnRedis(cache: SessionCacheOptions | false): RunningVariant {
  const inner = createRedisStore<Profile>({
    url: process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379',
    // BENCH_REDIS_PREFIX: servers of the revocation benchmark share one prefix.
    keyPrefix: process.env['BENCH_REDIS_PREFIX'] ?? `pikku-bench:${process.pid}`,
    cache,
    // BENCH_STORE_TIMEOUT_MS: count-instructions runs the server under valgrind, 20-50 times slower.
    ...storeTimeouts(),
  })
  // Remembers who logged in, so the run deletes what it created instead of leaving it for the TTL.
  // Only set() is wrapped: every other call goes straight to the store.
  const users = new Set<string>()
  const store: SessionStore<Profile> = {
    ...inner,
    set: (record: SessionRecord<Profile>) => {
      users.add(record.userId)
      return inner.set(record)
    },
  }
  return startPikku({
    store,
    credential: 'cookie',
    async onClose() {
      for (const userId of users) await inner.deleteByUser(userId)
      await inner.close()
    },
  })
}
