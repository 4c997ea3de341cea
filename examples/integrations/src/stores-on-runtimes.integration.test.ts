import { spawnSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { BUN, cache, DENO, env, root, unavailable, type Runtime } from './runtimes.test-support.js'

afterAll(() => {
  rmSync(cache, { recursive: true, force: true })
})

// The Redis and PostgreSQL stores under Bun and Deno: the same lifecycle (login, load, revoke, and
// the revocation event through pub/sub or LISTEN) as on Node, each run under its own key prefix or
// table, removed afterwards.
describe('the Redis and PostgreSQL stores under Bun and Deno (integration)', () => {
  const probe = (runtime: Runtime, store: 'redis' | 'postgres'): unknown => {
    const args = runtime === DENO ? ['run', '--sloppy-imports', '--no-lock', '--allow-net', '--allow-env', '--allow-read', 'src/store-probe.ts', store] : ['src/store-probe.ts', store]
    const run = spawnSync(runtime.command, args, { cwd: root, env, encoding: 'utf8', timeout: 60_000 })
    const line = run.stdout.trim().split('\n').at(-1) ?? ''
    if (run.status !== 0) throw new Error(`${runtime.name} ${store} probe exited with ${run.status}:\n${run.stdout}\n${run.stderr}`)
    return JSON.parse(line)
  }
  const lifecycle = { loaded: 'u-probe', afterRevoke: null, events: ['changed', 'deleted'] }
  const redisDown = serviceDown('redis-cli', ['-h', '127.0.0.1', '-p', '6379', 'ping'])
  const postgresDown = serviceDown('pg_isready', ['-h', '127.0.0.1', '-p', '5432'])

  it.skipIf(unavailable(BUN) !== undefined || redisDown)('Bun with the Redis store', () => expect(probe(BUN, 'redis')).toEqual(lifecycle), 60_000)
  it.skipIf(unavailable(BUN) !== undefined || postgresDown)('Bun with the PostgreSQL store', () => expect(probe(BUN, 'postgres')).toEqual(lifecycle), 60_000)
  it.skipIf(unavailable(DENO) !== undefined || redisDown)('Deno with the Redis store', () => expect(probe(DENO, 'redis')).toEqual(lifecycle), 60_000)
  it.skipIf(unavailable(DENO) !== undefined || postgresDown)('Deno with the PostgreSQL store', () => expect(probe(DENO, 'postgres')).toEqual(lifecycle), 60_000)
})

/** True when a service's own client cannot reach it (the test then skips, saying which). */
function serviceDown(command: string, args: readonly string[]): boolean {
  const check = spawnSync(command, args, { encoding: 'utf8', timeout: 10_000 })
  const down = check.status !== 0
  if (down) console.warn(`skipping: ${command} ${args.join(' ')} failed, so that service is not reachable here`)
  return down
}
