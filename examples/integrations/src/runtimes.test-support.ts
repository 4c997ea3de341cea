import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

// Bun and Deno, from the `bun` and `deno` npm packages (which ship their binaries).

export const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const bin = (name: string): string => join(root, 'node_modules', '.bin', name)
// Caches in a directory of the test's own, never under $HOME; removed afterwards.
export const cache = mkdtempSync(join(tmpdir(), 'pikku-runtimes-'))
export const env = {
  ...process.env,
  PORT: '0',
  DENO_DIR: join(cache, 'deno'),
  DENO_NO_UPDATE_CHECK: '1',
  BUN_RUNTIME_TRANSPILER_CACHE_PATH: '0',
  BUN_INSTALL_CACHE_DIR: join(cache, 'bun'),
}

export interface Runtime {
  readonly name: string
  readonly command: string
  readonly args: readonly string[]
}

export const BUN: Runtime = { name: 'Bun', command: bin('bun'), args: ['src/bun-server.ts'] }
export const DENO: Runtime = { name: 'Deno', command: bin('deno'), args: ['run', '--sloppy-imports', '--no-lock', '--allow-net', '--allow-env', '--allow-read', 'src/deno-server.ts'] }

/** Why the runtime cannot run here, or undefined when it can. */
export function unavailable(runtime: Runtime): string | undefined {
  const probe = spawnSync(runtime.command, ['--version'], { env, encoding: 'utf8', timeout: 30_000 })
  if (probe.error !== undefined) return probe.error.message
  return probe.status === 0 ? undefined : `${runtime.command} --version exited with ${probe.status}: ${probe.stderr}`
}

