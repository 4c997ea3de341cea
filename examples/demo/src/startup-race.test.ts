import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { openDemoPreferences } from './preferences.js'

// Two servers started at the same instant on one empty data folder must both start, with the same
// signing key and one database. Each round spawns two processes that run the server's real
// start-up code (dist/startup.js, what dist/main.js runs before it listens), released together.

const FIXTURE = fileURLToPath(new URL('./startup.fixture.mjs', import.meta.url))
const BUILT = fileURLToPath(new URL('../dist/startup.js', import.meta.url))
const ROUNDS = 100
/** Rounds run side by side; each round's two processes still start together on their own folder. */
const PARALLEL = 4
const root = mkdtempSync(join(tmpdir(), 'pikku-demo-startup-'))

afterAll(() => {
  rmSync(root, { recursive: true, force: true })
})

interface Started {
  readonly lines: string[]
  readonly exited: Promise<string>
  go(): void
}

function startProcess(dataDir: string): Started {
  // No SESSION_SECRETS: the key comes from DATA_DIR/secret, made by whichever process is first.
  const child = spawn(process.execPath, [FIXTURE], { env: { PATH: process.env['PATH'] ?? '', DATA_DIR: dataDir }, stdio: ['pipe', 'pipe', 'inherit'] })
  const lines: string[] = []
  createInterface({ input: child.stdout }).on('line', (line) => lines.push(line))
  return {
    lines,
    // 'close', not 'exit': 'exit' can come before the last line on stdout has been read, which
    // looked like a process that stopped after 'loaded'. How it ended goes into the report.
    exited: new Promise((resolve) => child.once('close', (code, signal) => resolve(`exit ${code ?? signal}`))),
    go: () => child.stdin.end('go\n'),
  }
}

async function round(index: number): Promise<string[]> {
  const dataDir = join(root, `round-${index}`, 'data')
  const pair = [startProcess(dataDir), startProcess(dataDir)]
  await expect.poll(() => pair.every((p) => p.lines.includes('loaded')), { timeout: 30_000, interval: 2 }).toBe(true)
  for (const p of pair) p.go()
  const exits = await Promise.all(pair.map((p) => p.exited))
  const outcomes = pair.map((p) => p.lines.at(-1) ?? '(no output)')
  const problems: string[] = []
  outcomes.forEach((outcome, which) => {
    if (!outcome.startsWith('ready ')) problems.push(`round ${index}: ${outcome} (${String(exits[which])})`)
  })
  if (problems.length === 0) {
    // Both use the key that is in the file: whoever lost the race read the winner's, whole.
    const key = readFileSync(join(dataDir, 'secret'), 'utf8').trim()
    const expected = `ready ${createHash('sha256').update(key).digest('hex')}`
    for (const outcome of outcomes) if (outcome !== expected) problems.push(`round ${index}: a process used another key than the file's`)
    // And both wrote to the one database.
    const preferences = await openDemoPreferences('sqlite', { sqlitePath: join(dataDir, 'sessions.db'), logger: console })
    try {
      if (Object.keys(await preferences.get('user-alice')).length !== 2) problems.push(`round ${index}: a process's preference is missing`)
    } finally {
      await preferences.close()
    }
  }
  rmSync(join(root, `round-${index}`), { recursive: true, force: true })
  return problems
}

describe('demo servers starting together on one empty data folder', () => {
  it(`all start, ${ROUNDS} times two at the same instant, with one key and one database`, async () => {
    if (!existsSync(BUILT)) throw new Error(`The processes run the built demo: run the build first (missing ${BUILT})`)
    const problems: string[] = []
    let next = 0
    await Promise.all(
      Array.from({ length: PARALLEL }, async () => {
        while (next < ROUNDS) problems.push(...(await round(next++)))
      }),
    )
    expect(problems).toEqual([])
  }, 600_000)
})
