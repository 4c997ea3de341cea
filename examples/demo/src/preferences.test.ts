import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { silentLogger } from '@pikku/core'
import pg from 'pg'
import { createClient } from 'redis'
import { afterAll, describe, expect, it } from 'vitest'
import { serviceAvailable } from './demo-process.test-support.js'
import { type DemoPreferences, openDemoPreferences } from './preferences.js'

// Users' preferences in each store's backend. Two handles on one backend stand for two servers.

const redisUrl = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379'
const databaseUrl = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test'
const redisUp = await serviceAvailable('Redis', '127.0.0.1', 6379)
const postgresUp = await serviceAvailable('PostgreSQL', '127.0.0.1', 5432)
const dir = mkdtempSync(join(tmpdir(), 'pikku-demo-preferences-'))
// A user id of this run only, so that the shared Redis and PostgreSQL hold nothing of other runs.
const user = `test-user-${randomBytes(6).toString('hex')}`

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true })
  if (redisUp) {
    const client = await createClient({ url: redisUrl }).connect()
    await client.del(`pikku-demo:preferences:${user}`)
    client.destroy()
  }
  if (postgresUp) {
    const client = new pg.Client({ connectionString: databaseUrl })
    await client.connect()
    await client.query('DELETE FROM pikku_demo_preferences WHERE user_id = $1', [user])
    await client.end()
  }
})

const backends = [
  { kind: 'sqlite', up: true, options: { sqlitePath: join(dir, 'sessions.db') } },
  { kind: 'redis', up: redisUp, options: { redisUrl } },
  { kind: 'postgres', up: postgresUp, options: { databaseUrl } },
] as const

for (const backend of backends) {
  describe.skipIf(!backend.up)(`preferences kept in ${backend.kind}`, () => {
    it('writes only the fields given, and two servers updating one user at once both keep theirs', async () => {
      const open = (): Promise<DemoPreferences> => openDemoPreferences(backend.kind, { ...backend.options, logger: silentLogger })
      const [one, two] = await Promise.all([open(), open()])
      try {
        await one.set(user, { theme: 'dark', language: 'en' })
        await two.set(user, { language: 'fr' })
        expect(await one.get(user)).toEqual({ theme: 'dark', language: 'fr' })
        await Promise.all(Array.from({ length: 20 }, (_, i) => [one.set(user, { [`one${i}`]: i }), two.set(user, { [`two${i}`]: i % 2 === 0 })]).flat())
        const stored = await two.get(user)
        for (let i = 0; i < 20; i++) {
          expect(stored[`one${i}`]).toBe(i)
          expect(stored[`two${i}`]).toBe(i % 2 === 0)
        }
        expect(await one.get('nobody')).toEqual({})
      } finally {
        await Promise.all([one.close(), two.close()])
      }
    })
  })
}
