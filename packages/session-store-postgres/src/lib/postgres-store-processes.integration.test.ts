import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { type SessionEvent, silentLogger } from '@pikku/core'
import { generateSessionToken, hashSessionToken } from '@pikku/core/store'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { createPostgresStore, type PostgresStore } from './postgres-store.js'
import { databaseUrl, postgresAvailable } from '@pikku/framework-testkit/test-services'

const available = await postgresAvailable()
const fixture = fileURLToPath(new URL('./event-subscriber.fixture.mjs', import.meta.url))
const built = fileURLToPath(new URL('../../dist/index.js', import.meta.url))

describe.skipIf(!available)('PostgreSQL store across processes', () => {
  const table = `pikku_test_${randomBytes(6).toString('hex')}`
  const stores: PostgresStore[] = []

  afterAll(async () => {
    await Promise.all(stores.map((store) => store.close()))
    const admin = new pg.Client({ connectionString: databaseUrl })
    await admin.connect()
    await admin.query(`DROP TABLE IF EXISTS "${table}", "${table}_schema"`)
    await admin.end()
  })

  it('delivers a logout made in this process to a subscriber in another process within a second', async () => {
    if (!existsSync(built)) throw new Error(`The other process runs the built package: run \`npx tsup\` in packages/session-store-postgres first (missing ${built})`)
    const child = spawn(process.execPath, [fixture], {
      env: { PATH: process.env['PATH'] ?? '', FIXTURE_DATABASE_URL: databaseUrl, FIXTURE_TABLE: table },
      stdio: ['pipe', 'pipe', 'inherit'],
    })
    try {
      const lines: string[] = []
      createInterface({ input: child.stdout }).on('line', (line) => lines.push(line))
      await expect.poll(() => lines, { timeout: 10_000, interval: 20 }).toContain('ready')

      const store = createPostgresStore({ connectionString: databaseUrl, tableName: table, sweepInterval: 0, logger: silentLogger })
      stores.push(store)
      const id = hashSessionToken(generateSessionToken())
      const now = Date.now()
      await store.set({ id, userId: 'alice', data: { userId: 'alice' }, version: 1, createdAt: now, lastActiveAt: now, expiresAt: now + 60_000 })
      const started = Date.now()
      await store.delete(id, 'revoked')
      const expected: SessionEvent = { type: 'deleted', id, userId: 'alice', reason: 'revoked' }
      await expect
        .poll(() => lines.filter((line) => line !== 'ready').map((line) => JSON.parse(line) as SessionEvent), { timeout: 1_000, interval: 5 })
        .toContainEqual(expected)
      expect(Date.now() - started).toBeLessThan(1_000)
    } finally {
      child.stdin.end()
      await new Promise((resolve) => {
        if (child.exitCode !== null) resolve(undefined)
        else child.once('exit', resolve)
      })
    }
  })
})
