import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { createInterface } from 'node:readline'
import { type SessionEvent, silentLogger } from '@pikku/core'
import { generateSessionToken, hashSessionToken } from '@pikku/core/store'
import { afterAll, describe, expect, it } from 'vitest'
import { createRedisStore, type RedisStore } from './redis-store.js'
import { redisAvailable, redisUrl } from '@pikku/framework-testkit/test-services'

const available = await redisAvailable()
const fixture = fileURLToPath(new URL('./event-subscriber.fixture.mjs', import.meta.url))
const built = fileURLToPath(new URL('../../dist/index.js', import.meta.url))

describe.skipIf(!available)('Redis store across processes', () => {
  const stores: RedisStore[] = []

  afterAll(async () => {
    await Promise.all(stores.map((store) => store.close()))
  })

  it('delivers a logout made in this process to a subscriber in another process within a second', async () => {
    if (!existsSync(built)) throw new Error(`The other process runs the built package: run \`npx tsup\` in packages/session-store-redis first (missing ${built})`)
    const prefix = `pikku-test:${randomUUID()}`
    const child = spawn(process.execPath, [fixture], {
      env: { PATH: process.env['PATH'] ?? '', FIXTURE_REDIS_URL: redisUrl, FIXTURE_PREFIX: prefix },
      stdio: ['pipe', 'pipe', 'inherit'],
    })
    try {
      const lines: string[] = []
      createInterface({ input: child.stdout }).on('line', (line) => lines.push(line))
      await expect.poll(() => lines, { timeout: 10_000, interval: 20 }).toContain('ready')

      const store = createRedisStore({ url: redisUrl, keyPrefix: prefix, logger: silentLogger })
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
