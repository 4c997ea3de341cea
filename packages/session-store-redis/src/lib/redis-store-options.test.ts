import { describe, expect, it } from 'vitest'
import { createRedisStore } from './redis-store.js'

describe('Redis store options', () => {
  it('explains each invalid option when created, before connecting', () => {
    expect(() => createRedisStore({ url: 'http://localhost:6379' })).toThrow(/url must start with redis:\/\/ or rediss:\/\//)
    expect(() => createRedisStore({ keyPrefix: 'my app' })).toThrow(/keyPrefix must be 1 to 64 printable ASCII characters/)
    expect(() => createRedisStore({ keyPrefix: '{app}' })).toThrow(/without spaces or braces/)
    expect(() => createRedisStore({ keyPrefix: '' })).toThrow(/keyPrefix must be/)
    expect(() => createRedisStore({ commandTimeout: 0 })).toThrow(/commandTimeout must be a positive number of ms; got 0/)
    expect(() => createRedisStore({ connectTimeout: Number.POSITIVE_INFINITY })).toThrow(/connectTimeout must be a positive number/)
    expect(() => createRedisStore({ url: 'redis://a:6379', cluster: ['redis://b:6379'] })).toThrow(/Pass either url \(one Redis node\) or cluster/)
    expect(() => createRedisStore({ cluster: [] })).toThrow(/cluster must be a non-empty list of redis:\/\/ or rediss:\/\/ node URLs; got \[\]/)
    expect(() => createRedisStore({ cluster: ['10.0.0.1:6379'] })).toThrow(/cluster must be a non-empty list/)
    expect(() => createRedisStore({ subscriberCheckInterval: -1 })).toThrow(/subscriberCheckInterval must be 0 \(off\) or a positive number of ms; got -1/)
    expect(() => createRedisStore({ maxReconnectDelay: -5 })).toThrow(/maxReconnectDelay must be a positive number of ms; got -5/)
  })
})

describe('Redis store on an app client: options', () => {
  const connected = { isOpen: true, duplicate: () => undefined, evalSha: () => undefined, hGetAll: () => undefined }

  it('refuses what is not a node-redis client, and a client together with connection options', () => {
    expect(() => createRedisStore({ client: {} as never })).toThrow(/client must be a node-redis v5 client/)
    expect(() => createRedisStore({ client: connected, url: 'redis://127.0.0.1:6379' })).toThrow(/Pass either client or url, not both/)
    expect(() => createRedisStore({ client: connected, cluster: ['redis://127.0.0.1:7000'] })).toThrow(/Pass either client or cluster, not both/)
    expect(() => createRedisStore({ client: connected, connectTimeout: 1_000 })).toThrow(/Pass either client or connectTimeout, not both/)
    expect(() => createRedisStore({ client: { ...connected, isOpen: false } })).toThrow(/client is not connected/)
  })
})
