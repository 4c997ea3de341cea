import { type ChildProcessByStdio, spawn } from 'node:child_process'
import type { Readable, Writable } from 'node:stream'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { type SessionEvent, silentLogger } from '@pikku/core'
import { afterAll, describe, expect, it } from 'vitest'
import { createSqliteStore } from './sqlite-store.js'
import { fixtureEnv, testDriver, testRecord } from './sqlite-test-driver.test-support.js'

// Real processes on one file, as Node's cluster module, pm2 or two containers on one volume run
// them. The fixtures run the built package.

const subscriber = fileURLToPath(new URL('./event-subscriber.fixture.mjs', import.meta.url))
const opener = fileURLToPath(new URL('./store-opener.fixture.mjs', import.meta.url))
const built = fileURLToPath(new URL('../../dist/index.js', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'pikku-sqlite-processes-'))

afterAll(() => {
  rmSync(dir, { recursive: true, force: true })
})

function assertBuilt(): void {
  if (!existsSync(built)) throw new Error(`The other processes run the built package: run \`npx tsup\` in packages/session-store-sqlite first (missing ${built})`)
}

/** A fixture process whose stdout lines are collected. */
function start(fixture: string, env: Record<string, string>): { child: ChildProcessByStdio<Writable, Readable, null>; lines: string[]; exited: Promise<unknown> } {
  const child = spawn(process.execPath, [fixture], { env: fixtureEnv(env), stdio: ['pipe', 'pipe', 'inherit'] })
  const lines: string[] = []
  createInterface({ input: child.stdout }).on('line', (line) => lines.push(line))
  const exited = new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode)
    else child.once('exit', resolve)
  })
  return { child, lines, exited }
}

describe('SQLite store shared by several processes', () => {
  it('delivers a logout and a "log out everywhere" made in this process to a subscriber in another process within a second', async () => {
    assertBuilt()
    const path = join(dir, 'events.db')
    const store = createSqliteStore({ path, driver: testDriver, sweepInterval: 0, logger: silentLogger })
    const other = start(subscriber, { FIXTURE_DB: path })
    try {
      await expect.poll(() => other.lines, { timeout: 10_000, interval: 20 }).toContain('ready')
      const received = (): SessionEvent[] => other.lines.filter((line) => line !== 'ready').map((line) => JSON.parse(line) as SessionEvent)
      const now = Date.now()
      const session = (userId: string): ReturnType<typeof testRecord> => testRecord(now, { userId, expiresAt: now + 60_000 })
      const one = session('alice')
      const two = session('alice')
      const three = session('alice')
      for (const record of [one, two, three]) await store.set(record)

      let started = Date.now()
      await store.delete(one.id, 'revoked')
      await expect.poll(received, { timeout: 1_000, interval: 5 }).toContainEqual({ type: 'deleted', id: one.id, userId: 'alice', reason: 'revoked' })
      expect(Date.now() - started).toBeLessThan(1_000)

      started = Date.now()
      expect(await store.deleteByUser('alice')).toBe(2)
      await expect.poll(received, { timeout: 1_000, interval: 5 }).toEqual(
        expect.arrayContaining([
          { type: 'deleted', id: two.id, userId: 'alice', reason: 'revoked' },
          { type: 'deleted', id: three.id, userId: 'alice', reason: 'revoked' },
        ]),
      )
      expect(Date.now() - started).toBeLessThan(1_000)
      expect(received().filter((event) => event.type === 'interrupted' || event.type === 'resync')).toEqual([])
    } finally {
      other.child.stdin.end()
      await other.exited
      await store.close()
    }
  })

  it('opens a new file from several processes started at the same instant, every one of them', async () => {
    assertBuilt()
    const processes = 6
    for (let round = 0; round < 5; round++) {
      const path = join(dir, `opened-together-${round}`, 'sessions.db')
      const openers = Array.from({ length: processes }, () => start(opener, { FIXTURE_DB: path }))
      // Every process has loaded the package before any opens the file: they open together.
      await expect.poll(() => openers.every((o) => o.lines.includes('loaded')), { timeout: 20_000, interval: 5 }).toBe(true)
      for (const o of openers) o.child.stdin.write('go\n')
      await Promise.all(openers.map((o) => o.exited))
      expect(openers.map((o) => o.lines.at(-1))).toEqual(Array.from({ length: processes }, () => 'opened'))
      const store = createSqliteStore({ path, driver: testDriver, sweepInterval: 0 })
      try {
        expect(await store.listByUser('alice')).toHaveLength(processes)
      } finally {
        await store.close()
      }
    }
  }, 60_000)
})
