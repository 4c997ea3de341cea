import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The fixture CLI the process tests spawn: it imports this package's built `dist`. */
export const FIXTURE_CLI = fileURLToPath(new URL('../../test-fixtures/fixture-cli.mjs', import.meta.url))
export const FIXTURE_SERVER = fileURLToPath(new URL('../../test-fixtures/fixture-server.mjs', import.meta.url))
export const NO_CHMOD = fileURLToPath(new URL('../../test-fixtures/no-chmod.mjs', import.meta.url))

export interface CLIResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** A private home, config directory and session store for one test. */
export interface Workspace {
  readonly root: string
  readonly configHome: string
  /** `$XDG_CONFIG_HOME/fixture-app`. */
  readonly appDir: string
  readonly store: string
  /** The environment the CLI runs with: nothing inherited but PATH. */
  readonly env: Record<string, string>
  credentialsFile(profile?: string): string
  cleanup(): void
}

export function createWorkspace(): Workspace {
  const root = mkdtempSync(join(tmpdir(), 'pikku-cli-'))
  const configHome = join(root, 'config')
  const appDir = join(configHome, 'fixture-app')
  const store = join(root, 'sessions.json')
  return {
    root,
    configHome,
    appDir,
    store,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: join(root, 'home'), XDG_CONFIG_HOME: configHome, FIXTURE_STORE: store },
    credentialsFile: (profile = 'default') => join(appDir, `credentials.${profile}.json`),
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  }
}

export interface RunOptions {
  readonly env?: Record<string, string | undefined>
  /** Written to stdin, which is then closed. */
  readonly input?: string
  /** Run through `sh -c 'umask 000; …'`, so created files get exactly the mode the CLI asks for. */
  readonly umask000?: boolean
  /** Extra `node` flags (e.g. `--import` of a preload). */
  readonly nodeArgs?: readonly string[]
  readonly timeoutMs?: number
}

/** Spawns `node fixture-cli.mjs …args` and collects its output and exit code. */
export function runCLI(workspace: Workspace, args: readonly string[], options: RunOptions = {}): Promise<CLIResult> {
  const env: Record<string, string> = { ...workspace.env }
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[name]
    else env[name] = value
  }
  const nodeArgs = [...(options.nodeArgs ?? []), FIXTURE_CLI, ...args]
  const child = options.umask000
    ? spawn('sh', ['-c', 'umask 000 && exec "$0" "$@"', process.execPath, ...nodeArgs], { env, stdio: 'pipe' })
    : spawn(process.execPath, nodeArgs, { env, stdio: 'pipe' })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  child.stdin.end(options.input ?? '')
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`CLI timed out: ${args.join(' ')}\nstdout: ${stdout}\nstderr: ${stderr}`))
    }, options.timeoutMs ?? 20_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

/** A Node stack trace line (`    at fn (file:1:2)`) anywhere in the text. */
export const STACK_TRACE = /^\s+at\s.+(:\d+:\d+\)?|\(native\))$/m
