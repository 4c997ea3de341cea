import { testServiceAvailable } from '@pikku/core/testing'
import pg from 'pg'
import { createClient } from 'redis'

/** Where the integration tests find PostgreSQL and Redis. */
export const databaseUrl = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test'
export const redisUrl = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379'

/** Whether PostgreSQL answers (skip locally, fail under CI: core's test-service policy). */
export function postgresAvailable(): Promise<boolean> {
  return testServiceAvailable({
    name: 'PostgreSQL',
    where: databaseUrl,
    hint: "start it (.ci/run, or your package manager's postgresql service), or point DATABASE_URL at one",
    probe: async () => {
      const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 1_000 })
      client.on('error', () => undefined)
      try {
        await client.connect()
        await client.query('SELECT 1')
      } finally {
        await client.end().catch(() => undefined)
      }
    },
  })
}

/** Whether Redis answers (skip locally, fail under CI). */
export function redisAvailable(): Promise<boolean> {
  return testServiceAvailable({
    name: 'Redis',
    where: redisUrl,
    hint: "start it (.ci/run, or your package manager's redis service), or point REDIS_URL at one",
    probe: async () => {
      const client = createClient({ url: redisUrl, socket: { connectTimeout: 1_000, reconnectStrategy: false } })
      client.on('error', () => undefined)
      await client.connect()
      try {
        await client.ping()
      } finally {
        client.destroy()
      }
    },
  })
}
