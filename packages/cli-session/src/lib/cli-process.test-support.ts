import { type ChildProcess, spawn } from 'node:child_process'
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
    // No D-Bus session, so no OS keychain: these tests are about the credentials file, which
    // then keeps the secrets only because the setting says so (cli-keychain.test.ts has a keychain).
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: join(root, 'home'), XDG_CONFIG_HOME: configHome, FIXTURE_STORE: store, FIXTURE_APP_INSECURE_STORAGE: '1' },
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

/**
 * Spawns the fixture CLI with `FIXTURE_ANNOUNCE_WAIT` set, sends SIGINT as soon as the running
 * function announces itself on stdout, and collects the exit code and stderr. `stdinLines` are
 * written to a piped stdin (for the shell).
 */
export async function interruptWhenRunning(workspace: Workspace, args: readonly string[], stdinLines?: string): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [FIXTURE_CLI, ...args], {
    env: { ...workspace.env, FIXTURE_ANNOUNCE_WAIT: '1' },
    stdio: [stdinLines === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  if (stdinLines !== undefined) child.stdin!.write(stdinLines)
  await new Promise<void>((resolve) => child.stdout!.setEncoding('utf8').once('data', () => resolve()))
  const code = await new Promise<number | null>((resolve) => {
    child.on('close', resolve)
    child.kill('SIGINT')
  })
  return { code, stderr }
}

/** The fixture server (`test-fixtures/fixture-server.mjs`) running as its own process. */
export interface RunningServer {
  readonly url: string
  readonly process: ChildProcess
}

/** Starts the fixture server on a free loopback port; it prints its URL on its first line. */
export function startFixtureServer(env: Record<string, string> = {}): Promise<RunningServer> {
  const child = spawn(process.execPath, [FIXTURE_SERVER], { env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['ignore', 'pipe', 'inherit'] })
  return new Promise((resolve, reject) => {
    let buffered = ''
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk
      const newline = buffered.indexOf('\n')
      if (newline !== -1) resolve({ url: buffered.slice(0, newline), process: child })
    })
    child.on('error', reject)
    child.on('exit', (code) => reject(new Error(`fixture server exited with ${code}`)))
  })
}

export function stopServer(server: RunningServer | undefined): Promise<void> {
  if (server === undefined || server.process.exitCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    server.process.once('exit', () => resolve())
    server.process.kill('SIGTERM')
  })
}
