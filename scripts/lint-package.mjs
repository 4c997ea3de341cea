#!/usr/bin/env node
// Checks the built package in the current directory the way a consumer receives it: its metadata
// (check-package-metadata.mjs), its public surface against the committed API report, publint on
// the packed files, and are-the-types-wrong on the tarball npm would publish.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { packageMetadataProblems } from './check-package-metadata.mjs'

const problems = packageMetadataProblems(process.cwd())
if (problems.length > 0) {
  for (const problem of problems) console.error(`package metadata: ${problem}`)
  process.exit(1)
}
const run = (command, args) => execFileSync(command, args, { stdio: 'inherit' })
run(process.execPath, [join(dirname(fileURLToPath(import.meta.url)), 'api-report.mjs')])
run('publint', ['--strict', '--pack', 'npm'])
const dir = mkdtempSync(join(tmpdir(), 'pikku-pack-'))
try {
  execFileSync('npm', ['pack', '--pack-destination', dir, '--silent'], { stdio: ['ignore', 'ignore', 'inherit'] })
  const tarball = readdirSync(dir).find((name) => name.endsWith('.tgz'))
  if (tarball === undefined) throw new Error('npm pack produced no tarball')
  run('attw', [join(dir, tarball), '--profile', 'esm-only', '--no-emoji', '--format', 'table-flipped'])
} finally {
  rmSync(dir, { recursive: true, force: true })
}
