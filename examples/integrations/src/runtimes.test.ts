import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { rmSync } from 'node:fs'
import { describeHostScenario, type RunningHost } from '@pikku/framework-testkit'
import { afterAll, describe, expect, it } from 'vitest'
import { BUN, cache, DENO, env, root, unavailable, type Runtime } from './runtimes.test-support.js'

// The fetch adapter on Bun and Deno: the recipes' servers run under the real runtimes, driven by
// the host scenario over real HTTP.

const children: ChildProcess[] = []
afterAll(() => {
  // The npm package's `deno` is a Node wrapper that starts the real binary: end the whole group.
  for (const child of children) if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, 'SIGTERM')
  rmSync(cache, { recursive: true, force: true })
})

/** Starts the recipe's server once; the scenario's tests share it. */
function server(runtime: Runtime): () => Promise<RunningHost> {
  let started: Promise<string> | undefined
  const start = (): Promise<string> =>
    new Promise((resolve, reject) => {
      const child = spawn(runtime.command, runtime.args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
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

