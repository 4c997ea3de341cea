import { execFile } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startHarness, type Harness } from './demo-harness.test-support.js'

// The official MCP conformance suite (@modelcontextprotocol/conformance, pinned in devDependencies)
// in server mode against the demo's /mcp, started here on an ephemeral loopback port. A scenario
// fails the test when any of its checks fails; the failing checks are printed.

const SCENARIOS = ['dns-rebinding-protection', 'server-initialize', 'ping', 'tools-list', 'server-sse-multiple-streams'] as const

const require = createRequire(import.meta.url)
const packageJson = require.resolve('@modelcontextprotocol/conformance/package.json')
const CONFORMANCE = join(dirname(packageJson), (JSON.parse(readFileSync(packageJson, 'utf8')) as { bin: { conformance: string } }).bin.conformance)

interface Check {
  readonly id: string
  readonly description: string
  readonly status: string
  readonly errorMessage?: string
  readonly details?: unknown
}

let harness: Harness
let outputDir: string

beforeAll(async () => {
  harness = await startHarness()
  outputDir = mkdtempSync(join(tmpdir(), 'pikku-mcp-conformance-'))
})

afterAll(async () => {
  await harness?.close()
  if (outputDir !== undefined) rmSync(outputDir, { recursive: true, force: true })
})

/** Runs one scenario; returns its checks (from the suite's checks.json) and the suite's output. */
function runScenario(scenario: string): Promise<{ checks: Check[]; output: string; exitCode: number | null }> {
  const dir = mkdtempSync(join(outputDir, `${scenario}-`))
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [CONFORMANCE, 'server', '--url', `${harness.demo.url}/mcp`, '--scenario', scenario, '--output-dir', dir],
      { timeout: 60_000, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } },
      (error, stdout, stderr) => {
        const output = `${stdout}${stderr}`
        const found = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('checks.json'))
        if (found.length !== 1) {
          reject(new Error(`the conformance suite wrote no checks.json for ${scenario} (${error?.message ?? 'no error'}):\n${output}`))
          return
        }
        const checks = JSON.parse(readFileSync(join(dir, found[0]!), 'utf8')) as Check[]
        resolve({ checks, output, exitCode: error === null ? 0 : typeof error.code === 'number' ? error.code : null })
      },
    )
  })
}

describe('the MCP conformance suite (server mode) against the demo', () => {
  for (const scenario of SCENARIOS) {
    it(`passes ${scenario}`, async () => {
      const { checks, output, exitCode } = await runScenario(scenario)
      const failing = checks.filter((check) => check.status !== 'SUCCESS' && check.status !== 'INFO')
      if (failing.length > 0) {
        const report = failing.map((check) => `- ${check.id} (${check.status}): ${check.description}${check.errorMessage === undefined ? '' : `\n  ${check.errorMessage}`}\n  ${JSON.stringify(check.details)}`)
        console.error(`conformance scenario ${scenario} failed:\n${report.join('\n')}`)
      }
      expect(failing.map((check) => `${check.id}: ${check.errorMessage ?? check.status}`)).toEqual([])
      expect(checks.length).toBeGreaterThan(0)
      expect(exitCode, output).toBe(0)
    }, 90_000)
  }
})
