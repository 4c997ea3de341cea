import { execFileSync } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const coreDir = join(packageDir, '..', 'core')

// An app folder holding the built package and core only, as an app that never installed
// @opentelemetry/api has it: node finds no copy of the API from there.
const app = mkdtempSync(join(tmpdir(), 'pikku-audit-no-otel-'))
afterAll(() => rmSync(app, { recursive: true, force: true }))

describe('without @opentelemetry/api installed', () => {
  it('the package imports, and instrumenting returns the manager untouched', () => {
    const installed = join(app, 'node_modules', '@pikku', 'session-audit')
    mkdirSync(installed, { recursive: true })
    cpSync(join(packageDir, 'dist'), join(installed, 'dist'), { recursive: true })
    cpSync(join(packageDir, 'package.json'), join(installed, 'package.json'))
    symlinkSync(coreDir, join(app, 'node_modules', '@pikku', 'core'), 'dir')
    writeFileSync(
      join(app, 'check.mjs'),
      `import { createMemoryStore, createSessionManager } from '@pikku/core'
import { instrumentSessionManager, createSessionAudit, createFileAuditSink } from '@pikku/session-audit'
let found = true
try { await import('@opentelemetry/api') } catch { found = false }
const manager = createSessionManager({ store: createMemoryStore() })
const same = instrumentSessionManager(manager, { store: 'memory' }) === manager
console.log(JSON.stringify({ found, same, audit: typeof createSessionAudit, sink: typeof createFileAuditSink }))
`,
    )
    // pnpm's script shims put the workspace's hoisted modules on NODE_PATH; an app has no such path.
    const { NODE_PATH: _hoisted, ...env } = process.env
    const output = execFileSync(process.execPath, ['check.mjs'], { cwd: app, encoding: 'utf8', env })
    expect(JSON.parse(output)).toEqual({ found: false, same: true, audit: 'function', sink: 'function' })
  })
})
