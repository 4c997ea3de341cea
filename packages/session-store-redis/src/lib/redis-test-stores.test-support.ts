import { randomUUID } from 'node:crypto'
import { silentLogger } from '@pikku/core'
import type { TestClock } from '@pikku/core/testing'
import type { TestSession } from '@pikku/framework-testkit/session-records'
import { startTcpFaultProxy, type TcpFaultProxy } from '@pikku/framework-testkit/tcp-fault-proxy'
import { redisUrl } from '@pikku/framework-testkit/test-services'
import { createClient, type RedisClientType } from 'redis'
import { afterAll, afterEach, beforeAll } from 'vitest'
import { createRedisStore, type RedisStore, type RedisStoreOptions } from './redis-store.js'

// The setup the Redis store's integration tests share: stores under key prefixes of their own,
// removed after each test, and session records to put in them.

export { type TestSession, testSessionRecord as record } from '@pikku/framework-testkit/session-records'
export const MINUTE = 60_000

export interface TestRedisStores {
  /** A client of its own, connected before the file's tests, for looking at the keys. */
  readonly admin: RedisClientType
  /** A key prefix of this test; its keys are removed after the test. */
  freshPrefix(): string
  /** A store with short timeouts on `keyPrefix` (a fresh one by default), closed after the test. */
  open(clock: TestClock, keyPrefix?: string, options?: Partial<RedisStoreOptions>): RedisStore<TestSession>
  /** Closes a store opened some other way after the test, with the rest. */
  track(store: RedisStore<TestSession>): RedisStore<TestSession>
  /** Closes the stores opened so far, before a proxy they go through is closed. */
  closeStores(): Promise<void>
}

/**
 * Registers the file's hooks when Redis is `available` (call it at the top level of the file),
 * and hands out the stores its tests use.
 */
export function useTestRedisStores(available: boolean): TestRedisStores {
  const admin: RedisClientType = createClient({ url: redisUrl })
  admin.on('error', () => undefined)
  const prefixes: string[] = []
  const opened: RedisStore<TestSession>[] = []

  async function removeKeys(prefix: string): Promise<void> {
    const found: string[] = []
    for await (const batch of admin.scanIterator({ MATCH: `${prefix}:*`, COUNT: 1000 })) found.push(...batch)
    if (found.length > 0) await admin.del(found)
  }

  if (available) {
    beforeAll(async () => {
      await admin.connect()
    })
    afterEach(async () => {
      await stores.closeStores()
      await Promise.all(prefixes.splice(0).map(removeKeys))
    })
    afterAll(() => {
      admin.destroy()
    })
  }

  const stores: TestRedisStores = {
    admin,
    freshPrefix() {
      const prefix = `pikku-test:${randomUUID()}`
      prefixes.push(prefix)
      return prefix
    },
    open(clock, keyPrefix = stores.freshPrefix(), options = {}) {
      return stores.track(createRedisStore<TestSession>({ url: redisUrl, keyPrefix, clock: clock.now, logger: silentLogger, connectTimeout: 1_000, commandTimeout: 2_000, ...options }))
    },
    track(store) {
      opened.push(store)
      return store
    },
    async closeStores() {
      await Promise.all(opened.splice(0).map((store) => store.close()))
    },
  }
  return stores
}

/** A fault proxy in front of the test Redis, and the URL that reaches Redis through it. */
export async function startRedisProxy(): Promise<{ proxy: TcpFaultProxy; url: string }> {
  const target = new URL(redisUrl)
  const proxy = await startTcpFaultProxy({ host: target.hostname, port: Number(target.port || 6379) })
  return { proxy, url: `redis://127.0.0.1:${proxy.port}${target.pathname}` }
}
