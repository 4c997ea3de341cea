export { createRedisStore, type RedisStore, type RedisStoreOptions } from './lib/redis-store.js'
