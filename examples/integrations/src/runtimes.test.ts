import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describeHostScenario, type RunningHost } from '@pikku/framework-testkit'
import { afterAll, describe, expect, it } from 'vitest'

// The fetch adapter on Bun and Deno: the recipes' servers run under the real runtimes (the `bun`
// and `deno` npm packages ship their binaries), driven by the host scenario over real HTTP.

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const bin = (name: string): string => join(root, 'node_modules', '.bin', name)
// Caches in a directory of the test's own, never under $HOME; removed afterwards.
const cache = mkdtempSync(join(tmpdir(), 'pikku-runtimes-'))
const env = {
  ...process.env,
  PORT: '0',
  DENO_DIR: join(cache, 'deno'),
  DENO_NO_UPDATE_CHECK: '1',
  BUN_RUNTIME_TRANSPILER_CACHE_PATH: '0',
  BUN_INSTALL_CACHE_DIR: join(cache, 'bun'),
}

interface Runtime {
  readonly name: string
  readonly command: string
  readonly args: readonly string[]
}

const BUN: Runtime = { name: 'Bun', command: bin('bun'), args: ['src/bun-server.ts'] }
const DENO: Runtime = { name: 'Deno', command: bin('deno'), args: ['run', '--sloppy-imports', '--no-lock', '--allow-net', '--allow-env', '--allow-read', 'src/deno-server.ts'] }

/** Why the runtime cannot run here, or undefined when it can. */
function unavailable(runtime: Runtime): string | undefined {
  const probe = spawnSync(runtime.command, ['--version'], { env, encoding: 'utf8', timeout: 30_000 })
  if (probe.error !== undefined) return probe.error.message
  return probe.status === 0 ? undefined : `${runtime.command} --version exited with ${probe.status}: ${probe.stderr}`
}

const children: ChildProcess[] = []
afterAll(() => {
  for (const child of children) child.kill('SIGTERM')
  rmSync(cache, { recursive: true, force: true })
})

/** Starts the recipe's server once; the scenario's tests share it. */
function server(runtime: Runtime): () => Promise<RunningHost> {
  let started: Promise<string> | undefined
  const start = (): Promise<string> =>
    new Promise((resolve, reject) => {
      const child = spawn(runtime.command, runtime.args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] })
      children.push(child)
      let output = ''
      const timer = setTimeout(() => reject(new Error(`${runtime.name} did not start within 60 s:\n${output}`)), 60_000)
      const read = (chunk: Buffer): void => {
        output += chunk.toString('utf8')
        const match = /listening on (http:\/\/\S+)/.exec(output)
        if (match !== null) {
          clearTimeout(timer)
          resolve(match[1]!)
        }
      }
      child.stdout!.on('data', read)
      child.stderr!.on('data', read)
      child.on('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`${runtime.name} exited with ${code}:\n${output}`))
      })
    })
  return async () => ({ base: await (started ??= start()), pikku: '', close: async () => undefined })
}

for (const runtime of [BUN, DENO]) {
  const reason = unavailable(runtime)
  if (reason === undefined) describeHostScenario(`the ${runtime.name} recipe (toFetchHandler on ${runtime.name}.serve)`, server(runtime))
  else describe(`the ${runtime.name} recipe`, () => it.skip(`skipped: ${runtime.name} cannot run on this machine (${reason})`, () => undefined))
}

describe('the Deno recipe type-checks under Deno', () => {
  it.skipIf(unavailable(DENO) !== undefined)('deno check passes', () => {
    const check = spawnSync(DENO.command, ['check', '--sloppy-imports', '--no-lock', 'src/deno-server.ts'], { cwd: root, env, encoding: 'utf8', timeout: 120_000 })
    expect(check.stderr + check.stdout).not.toMatch(/error/i)
    expect(check.status).toBe(0)
  }, 120_000)
})
