import { randomBytes } from 'node:crypto'
import { testServiceAvailable } from '@pikku/core/testing'
import pg from 'pg'
import { createClient } from 'redis'
import { afterAll } from 'vitest'

/** Where integration tests find Redis. */
export const redisUrl = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379'

/** The PostgreSQL server the integration tests use. */
const serverUrl = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test'

/**
 * A schema of the importing test file's own (vitest loads this module afresh for each test file):
 * created by `postgresAvailable()`, dropped with everything in it after the file's tests.
 */
export const testSchema = `pikku_test_${randomBytes(6).toString('hex')}`

/**
 * Where the integration tests find PostgreSQL: the server, with the file's own schema as the
 * search_path of every connection, so unqualified tables are created there and nowhere else.
 */
export const databaseUrl = ((): string => {
  const url = new URL(serverUrl)
  url.searchParams.set('options', `-c search_path=${testSchema}`)
  return url.toString()
})()

/** Whether Redis answers at `redisUrl` (skip locally, fail under CI: core's test-service policy). */
export function redisAvailable(): Promise<boolean> {
  return testServiceAvailable({
    name: 'Redis',
    where: redisUrl,
    hint: 'start one with `redis-server` (or .ci/run), or point REDIS_URL at one',
    probe: async () => {
      const client = createClient({ url: redisUrl, socket: { connectTimeout: 1_000, reconnectStrategy: false } })
      client.on('error', () => undefined)
      try {
        await client.connect()
        await client.ping()
      } finally {
        if (client.isOpen) client.destroy()
      }
    },
  })
}

/**
 * Whether PostgreSQL answers (skip locally, fail under CI: core's test-service policy). When it
 * does, the file's schema is created now and dropped after the file's tests.
 */
export async function postgresAvailable(): Promise<boolean> {
  const available = await testServiceAvailable({
    name: 'PostgreSQL',
    where: serverUrl,
    hint: "start it (.ci/run, or your package manager's postgresql service), or point DATABASE_URL at one",
    probe: async () => {
      const client = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 1_000 })
      client.on('error', () => undefined)
      try {
        await client.connect()
        await client.query('SELECT 1')
      } finally {
        await client.end().catch(() => undefined)
      }
    },
  })
  if (available) {
    await onServer(`CREATE SCHEMA IF NOT EXISTS "${testSchema}"`)
    afterAll(async () => {
      await onServer(`DROP SCHEMA IF EXISTS "${testSchema}" CASCADE`)
    })
  }
  return available
}

async function onServer(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl })
  await client.connect()
  try {
    await client.query(statement)
  } finally {
    await client.end()
  }
}
