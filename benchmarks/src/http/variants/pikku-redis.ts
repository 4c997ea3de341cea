import type { SessionCacheOptions, SessionRecord, SessionStore } from '@pikku/core'
import { createRedisStore } from '@pikku/session-store-redis'
import type { Profile } from '../app.js'
import type { RunningVariant } from '../variant.js'
import { startPikku } from './pikku-app.js'

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
