import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { testServiceAvailable } from '@pikku/core/testing'
import { describe, expect, it } from 'vitest'

// The same store and the same suite (core's conformance cases, the store's own tests, events across
// connections and processes, the crash test) on the other two drivers: node:sqlite under Node 22
// and bun:sqlite under Bun. Both runtimes come from the npm registry through npx, as the README
// says to run them; vitest itself runs under each (its workers are the runtime's own processes).

const packageDir = fileURLToPath(new URL('../..', import.meta.url))
const vitest = fileURLToPath(new URL('../../node_modules/vitest/vitest.mjs', import.meta.url))

interface Outcome {
  readonly code: number | null
  readonly output: string
}

function run(command: string, args: readonly string[], env: Record<string, string>, timeoutMs: number): Promise<Outcome> {
  // npx writes to the npm cache as usual; nothing else outside the temporary folders the suite makes.
  const child = spawn(command, args, { cwd: packageDir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('close', (code) => {
      clearTimeout(timer)
      // eslint-disable-next-line no-control-regex
      resolve({ code, output: output.replace(/\u001b\[[0-9;]*m/g, '') })
    })
  })
}

const runtimes = [
  { name: 'Node 22', driver: 'node:sqlite', npx: ['-y', 'node@22'], runtimeArgs: [] as string[], version: ['--version'] },
  { name: 'Bun', driver: 'bun:sqlite', npx: ['-y', 'bun@1'], runtimeArgs: ['--bun'], version: ['--version'] },
] as const

for (const runtime of runtimes) {
  // The runtime is fetched once here; where the registry cannot be reached the cases are skipped
  // with a notice (and fail under CI), as for a missing Redis.
  const available = await testServiceAvailable({
    name: runtime.name,
    where: `npx ${runtime.npx.join(' ')}`,
    hint: 'let npx reach the npm registry',
    probe: async () => {
      const outcome = await run('npx', [...runtime.npx, ...runtime.version], {}, 180_000)
      if (outcome.code !== 0) throw new Error(outcome.output.trim().split('\n').slice(-3).join(' / '))
    },
  })

  describe.skipIf(!available)(`the SQLite store under ${runtime.name} with driver ${runtime.driver}`, () => {
    it('passes the store conformance suite and the store’s own tests', async () => {
      const outcome = await run(
        'npx',
        [...runtime.npx, ...runtime.runtimeArgs, vitest, 'run', '--exclude', '**/sqlite-runtimes.test.ts', '--reporter', 'dot'],
        { PIKKU_SQLITE_DRIVER: runtime.driver, NO_COLOR: '1', FORCE_COLOR: '0' },
        240_000,
      )
      expect(outcome.output, outcome.output).not.toMatch(/Tests\s+.*failed/)
      expect(outcome.code, outcome.output).toBe(0)
      // The whole suite ran, not a part of it.
      const passed = Number(/Tests\s+(\d+) passed/.exec(outcome.output)?.[1] ?? 0)
      expect(passed, outcome.output).toBeGreaterThan(70)
    }, 300_000)
  })
}
