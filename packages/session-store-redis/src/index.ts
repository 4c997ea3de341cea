export { createRedisStore, type RedisStore, type RedisStoreOptions } from './lib/redis-store.js'
export type { RedisStoreClient } from './lib/redis-connection.js'
