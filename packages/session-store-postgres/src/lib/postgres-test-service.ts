import { testServiceAvailable } from '@pikku/core/testing'
import pg from 'pg'

/** Where the integration tests find PostgreSQL. */
export const databaseUrl = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test'

/** Whether PostgreSQL answers at `databaseUrl` (skip locally, fail under CI: core's test-service policy). */
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
