import type { SessionRecord, SessionStore } from '@pikku/core'
import { createRedisStore } from '@pikku/session-store-redis'
import type { Profile } from '../app.js'
import type { RunningVariant } from '../variant.js'
import { startPikku } from './pikku-app.js'

/** The local Redis (REDIS_URL, default 127.0.0.1:6379) under a key prefix of this run's own. */
export function start(): RunningVariant {
  const inner = createRedisStore<Profile>({
    url: process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379',
    keyPrefix: `pikku-bench:${process.pid}`,
  })
  // Remembers who logged in, so the run deletes what it created instead of leaving it for the TTL.
  const users = new Set<string>()
  const store: SessionStore<Profile> = {
    ...inner,
    get: (id) => inner.get(id),
    set: (record: SessionRecord<Profile>) => {
      users.add(record.userId)
      return inner.set(record)
    },
    update: (...args) => inner.update(...args),
    touch: (...args) => inner.touch(...args),
    delete: (...args) => inner.delete(...args),
    listByUser: (userId) => inner.listByUser(userId),
    deleteByUser: (...args) => inner.deleteByUser(...args),
    subscribe: (listener) => inner.subscribe(listener),
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
