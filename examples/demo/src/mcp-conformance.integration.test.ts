import { execFile } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startHarness, type Harness } from './demo-harness.test-support.js'

// The official MCP conformance suite (@modelcontextprotocol/conformance, pinned in devDependencies)
// in server mode against the demo's /mcp, started here on an ephemeral loopback port. A scenario
// fails the test when any of its checks fails; the failing checks are printed.

const SCENARIOS = ['dns-rebinding-protection', 'server-initialize', 'ping', 'tools-list', 'server-sse-multiple-streams'] as const
// The latest suite (0.1.16) needs Node 22: run through `npx -y node@22`. Its server scenarios that
// apply to the demo; the others call the suite's own fixture tools, resources and prompts
// (`test_simple_text`, `test://…`), logging, completion, sampling or elicitation, which the demo
// does not have (README: "Conformance"). No server scenario of the suite covers authorization: its
// auth scenarios test clients.
const LATEST = '@modelcontextprotocol/conformance@0.1.16'
// server-sse-polling applies but reports two SHOULDs the endpoint does not meet yet (a priming
// event and a retry field, for resumable SSE streams): see the README.
const LATEST_SCENARIOS = ['dns-rebinding-protection', 'server-initialize', 'ping', 'tools-list', 'server-sse-multiple-streams'] as const
const NPX_CLI = realpathSync(join(dirname(process.execPath), 'npx'))

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
function runScenario(scenario: string, suite: 'pinned' | 'latest' = 'pinned'): Promise<{ checks: Check[]; output: string; exitCode: number | null }> {
  const dir = mkdtempSync(join(outputDir, `${scenario}-`))
  const args = ['server', '--url', `${harness.demo.url}/mcp`, '--scenario', scenario, '--output-dir', dir]
  const [command, commandArgs] =
    suite === 'pinned' ? [process.execPath, [CONFORMANCE, ...args]] : [process.execPath, [NPX_CLI, '-y', 'node@22', NPX_CLI, '-y', LATEST, ...args]]
  return new Promise((resolve, reject) => {
    execFile(
      command,
      commandArgs,
      { timeout: suite === 'pinned' ? 60_000 : 170_000, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } },
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

describe.each([
  { suite: 'pinned' as const, scenarios: SCENARIOS, timeout: 90_000 },
  { suite: 'latest' as const, scenarios: LATEST_SCENARIOS, timeout: 180_000 },
])('the MCP conformance suite ($suite) in server mode against the demo', ({ suite, scenarios, timeout }) => {
  for (const scenario of scenarios) {
    it(`passes ${scenario}`, async () => {
      const { checks, output, exitCode } = await runScenario(scenario, suite)
      const failing = checks.filter((check) => check.status !== 'SUCCESS' && check.status !== 'INFO')
      if (failing.length > 0) {
        const report = failing.map((check) => `- ${check.id} (${check.status}): ${check.description}${check.errorMessage === undefined ? '' : `\n  ${check.errorMessage}`}\n  ${JSON.stringify(check.details)}`)
        console.error(`conformance scenario ${scenario} failed:\n${report.join('\n')}`)
      }
      expect(failing.map((check) => `${check.id}: ${check.errorMessage ?? check.status}`)).toEqual([])
      expect(checks.length).toBeGreaterThan(0)
      expect(exitCode, output).toBe(0)
    }, timeout)
  }
})
