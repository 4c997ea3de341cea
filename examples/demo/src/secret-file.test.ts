import { spawn } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'

// The demo's development signing key (DATA_DIR/secret) signs bearer tokens: whoever reads it can
// sign in as anyone. The built demo is spawned with a private DATA_DIR for each case.

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url))
const KEY = 'k'.repeat(43)

interface Outcome {
  /** The exit code, or 'listening' when the demo started (it is then stopped). */
  readonly result: number | 'listening'
  readonly output: string
}

/** Runs the demo until it listens (then stops it) or exits; under `umask 000` when asked. */
function runDemo(dataDir: string, options: { umask000?: boolean } = {}): Promise<Outcome> {
  const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, SESSION_STORE: 'memory' }
  const child = options.umask000
    ? spawn('sh', ['-c', 'umask 000 && exec "$0" "$@"', process.execPath, MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(process.execPath, [MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`the demo neither started nor exited within 20 s:\n${output}`))
    }, 20_000)
    let listening = false
    const onData = (chunk: Buffer): void => {
      output += chunk.toString()
      if (!listening && /listening on http:\/\//.test(output)) {
        listening = true
        child.kill('SIGTERM')
      }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ result: listening ? 'listening' : (code ?? -1), output })
    })
  })
}

let root: string
let dataDir: string
let secretFile: string
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'pikku-demo-secret-'))
  dataDir = join(root, 'data')
  secretFile = join(dataDir, 'secret')
})
afterEach(() => {
  rmSync(root, { recursive: true, force: true })
})

function writeSecret(mode: number): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  writeFileSync(secretFile, `${KEY}\n`, { mode })
  chmodSync(secretFile, mode)
}

describe('the demo signing key in DATA_DIR/secret', () => {
  it('is created with mode 0600 even under umask 000, and the demo starts', async () => {
    const outcome = await runDemo(dataDir, { umask000: true })
    expect(outcome.result, outcome.output).toBe('listening')
    expect(statSync(secretFile).mode & 0o777).toBe(0o600)
    expect(readFileSync(secretFile, 'utf8').trim()).toMatch(/^[A-Za-z0-9_-]{43}$/)
    // The key is never printed.
    expect(outcome.output).not.toContain(readFileSync(secretFile, 'utf8').trim())
  })

  it('a private existing key (0600) is used as it is', async () => {
    writeSecret(0o600)
    const outcome = await runDemo(dataDir)
    expect(outcome.result, outcome.output).toBe('listening')
    expect(readFileSync(secretFile, 'utf8').trim()).toBe(KEY)
  })

  it.each([
    ['readable by everyone', 0o644, '0644'],
    ['readable by the group', 0o640, '0640'],
    ['writable by the group', 0o620, '0620'],
  ])('%s: the demo refuses to start, says why and what to do, and never prints the key', async (_name, mode, shown) => {
    writeSecret(mode)
    const outcome = await runDemo(dataDir)
    expect(outcome.result).toBe(1)
    expect(outcome.output).toContain(`${secretFile} can be read or written by other users (mode ${shown})`)
    expect(outcome.output).toContain(`run \`chmod 600 ${secretFile}\``)
    expect(outcome.output).not.toContain(KEY)
    expect(outcome.output).not.toMatch(/^\s+at\s/m)
  })

  it('a symbolic link in its place is refused, not followed', async () => {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 })
    const elsewhere = join(root, 'planted-secret')
    writeFileSync(elsewhere, `${KEY}\n`, { mode: 0o600 })
    symlinkSync(elsewhere, secretFile)
    const outcome = await runDemo(dataDir)
    expect(outcome.result).toBe(1)
    expect(outcome.output).toContain(`${secretFile} is a symbolic link`)
  })
})
