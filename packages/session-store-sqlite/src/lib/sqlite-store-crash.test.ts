import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { createSqliteStore } from './sqlite-store.js'
import { fixtureEnv, testDriver } from './sqlite-test-driver.test-support.js'

const fixture = fileURLToPath(new URL('./session-writer.fixture.mjs', import.meta.url))
const built = fileURLToPath(new URL('../../dist/index.js', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'pikku-sqlite-crash-'))

afterAll(() => {
  rmSync(dir, { recursive: true, force: true })
})

describe('SQLite store when its process is killed', () => {
  it('keeps every write it acknowledged before a kill -9', async () => {
    if (!existsSync(built)) throw new Error(`The writer process runs the built package: run \`npx tsup\` in packages/session-store-sqlite first (missing ${built})`)
    const path = join(dir, 'sessions.db')
    const child = spawn(process.execPath, [fixture], { env: fixtureEnv({ FIXTURE_DB: path }), stdio: ['ignore', 'pipe', 'inherit'] })
    const acknowledged: string[] = []
    // A line cut short by the kill is not an acknowledgement.
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (/^session-\d+$/.test(line)) acknowledged.push(line)
    })
    const exited = new Promise((resolve) => child.once('exit', resolve))
    await expect.poll(() => acknowledged.length, { timeout: 10_000, interval: 10 }).toBeGreaterThan(200)
    child.kill('SIGKILL')
    await exited

    const store = createSqliteStore({ path, driver: testDriver, sweepInterval: 0 })
    try {
      const stored = new Set((await store.listByUser('alice')).map((record) => record.id))
      const lost = acknowledged.filter((id) => !stored.has(id))
      expect(lost).toEqual([])
    } finally {
      await store.close()
    }
  })
})
