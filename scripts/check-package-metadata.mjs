#!/usr/bin/env node
// Checks what a consumer of a published package relies on besides its code: the fields npm and the
// registry show (license, repository with its directory, homepage, bugs), the Node versions it
// runs on, a LICENSE file, a README that says it is ESM-only, declaration maps, dependency ranges
// that let npm share one copy with the app, that Node >= 20.19 can require() it, and that the
// tarball carries no test-only file (tests, test support, fixtures, modules no entry point reaches).
// Run in a package directory (its lint script does), or with package directories as arguments.
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, posix, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const rootDir = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const rootManifest = JSON.parse(readFileSync(join(rootDir, 'package.json'), 'utf8'))
const repositoryUrl = rootManifest.repository?.url
const repositoryWeb = typeof repositoryUrl === 'string' ? repositoryUrl.replace(/^git\+/, '').replace(/\.git$/, '') : undefined

/** Every problem found in the package at `dir`, as sentences; empty when it is fine. */
export function packageMetadataProblems(dir) {
  const problems = []
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
  const where = relative(rootDir, dir)
  if (manifest.private === true) return problems
  if (manifest.license !== 'MIT') problems.push(`"license" must be "MIT" (the repository's licence); got ${JSON.stringify(manifest.license)}`)
  const license = join(dir, 'LICENSE')
  if (!existsSync(license)) problems.push('no LICENSE file (copy the repository root LICENSE)')
  else if (readFileSync(license, 'utf8') !== readFileSync(join(rootDir, 'LICENSE'), 'utf8')) problems.push('LICENSE differs from the repository root LICENSE')
  if (manifest.engines?.node !== '>=20.19') {
    problems.push(`"engines.node" must be ">=20.19" (the first Node that can require() ES modules); got ${JSON.stringify(manifest.engines?.node)}`)
  }
  if (manifest.type !== 'module') problems.push('"type" must be "module" (the packages are ESM-only)')
  const repository = manifest.repository
  if (repository?.type !== 'git' || repository?.url !== repositoryUrl || repository?.directory !== where) {
    problems.push(`"repository" must be { "type": "git", "url": ${JSON.stringify(repositoryUrl)}, "directory": ${JSON.stringify(where)} }`)
  }
  if (manifest.homepage !== `${repositoryWeb}/tree/main/${where}#readme`) problems.push(`"homepage" must be "${repositoryWeb}/tree/main/${where}#readme"`)
  if (manifest.bugs?.url !== `${repositoryWeb}/issues`) problems.push(`"bugs" must be { "url": "${repositoryWeb}/issues" }`)
  const readme = existsSync(join(dir, 'README.md')) ? readFileSync(join(dir, 'README.md'), 'utf8') : ''
  if (!/ESM-only/.test(readme)) problems.push('README.md must say the package is ESM-only (and that Node >= 20.19 can require() it)')
  for (const field of ['dependencies', 'peerDependencies']) {
    for (const [name, range] of Object.entries(manifest[field] ?? {})) {
      // An exact pin makes npm install a second copy next to the app's own of the same package.
      if (/^\d/.test(range)) problems.push(`${field}.${name} is pinned to ${range}; use a range such as ^${range}`)
    }
  }
  const entry = manifest.exports?.['.']
  const types = typeof entry === 'object' ? entry.types : undefined
  if (typeof types !== 'string') problems.push('exports["."].types is missing')
  else if (existsSync(join(dir, types)) && !existsSync(join(dir, `${types}.map`))) problems.push(`no declaration map ${types}.map: build declarations with declarationMap`)
  const main = typeof entry === 'object' ? entry.default : undefined
  if (typeof main === 'string' && existsSync(join(dir, main))) {
    try {
      execFileSync(process.execPath, ['-e', `require(${JSON.stringify(join(dir, main))})`], { stdio: ['ignore', 'ignore', 'pipe'], cwd: dir })
    } catch (error) {
      problems.push(`require() of ${main} fails on this Node (${process.version}): ${String(error.stderr ?? error).split('\n').find((line) => /Error/.test(line)) ?? 'see above'}`)
    }
  }
  for (const file of testOnlyFiles(packedFiles(dir), manifest, (path) => readFileSync(join(dir, path), 'utf8'))) {
    problems.push(`the tarball would ship test-only ${file.path} (${file.reason}); leave it out of "files" or the build`)
  }
  return problems
}

/** The paths `npm pack` would put in the tarball of the package at `dir`. */
export function packedFiles(dir) {
  const output = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  return JSON.parse(output)[0].files.map((file) => file.path)
}

// Test files by name, wherever they are: decision 031's conventions and the usual fixture folders.
const TEST_FILE_NAMES = [
  [/\.(test|spec|test-d)\.[cm]?[jt]sx?(\.map)?$/, 'a test'],
  [/\.(test|spec)\.d\.[cm]?ts(\.map)?$/, 'a test'],
  [/\.test-support\.[^/]+$/, 'test support'],
  [/\.fixtures?\.[^/]+$/, 'a fixture'],
  [/(^|\/)(testing|__tests__|__fixtures__|fixtures|__mocks__)\//, 'a test folder'],
]

/**
 * The packed files that are there only for tests: named as tests, test support or fixtures, or a
 * module under src/ that no entry point of `exports` imports (with its declarations in dist/), which
 * is what a test helper with a plain name looks like. `read` gives a packed file's text.
 */
export function testOnlyFiles(files, manifest, read) {
  const found = []
  for (const path of files) {
    const named = TEST_FILE_NAMES.find(([pattern]) => pattern.test(path))
    if (named !== undefined) found.push({ path, reason: named[1] })
  }
  const flagged = new Set(found.map((file) => file.path))
  const sources = new Set(files.filter((path) => /^src\/.+\.[cm]?tsx?$/.test(path) && !/\.d\.[cm]?ts$/.test(path)))
  // Each entry point's source: ./dist/testing.js was built from src/testing.ts.
  const entries = Object.values(manifest.exports ?? {})
    .map((target) => (typeof target === 'string' ? target : target?.default))
    .filter((target) => typeof target === 'string' && /^\.\/dist\/.+\.js$/.test(target))
    .map((target) => target.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts'))
  // Without the source of every entry point there is nothing to trace from.
  if (sources.size === 0 || !entries.every((entry) => sources.has(entry))) return found
  const reached = new Set()
  const pending = [...entries]
  while (pending.length > 0) {
    const path = pending.pop()
    if (reached.has(path)) continue
    reached.add(path)
    for (const [, specifier] of read(path).matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
      const target = posix.join(posix.dirname(path), specifier)
      const candidates = [target.replace(/\.[cm]?js$/, '.ts'), target.replace(/\.[cm]?js$/, '.tsx'), target, `${target}.ts`, `${target}/index.ts`]
      const next = candidates.find((candidate) => sources.has(candidate))
      if (next !== undefined) pending.push(next)
    }
  }
  for (const path of files) {
    if (flagged.has(path)) continue
    const source = sources.has(path) ? path : /^dist\/.+\.d\.ts(\.map)?$/.test(path) ? path.replace(/^dist\//, 'src/').replace(/\.d\.ts(\.map)?$/, '.ts') : undefined
    if (source !== undefined && sources.has(source) && !reached.has(source)) found.push({ path, reason: 'no entry point in "exports" imports it' })
  }
  return found
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dirs = process.argv.length > 2 ? process.argv.slice(2).map((dir) => resolve(dir)) : [process.cwd()]
  let failed = false
  for (const dir of dirs) {
    for (const problem of packageMetadataProblems(dir)) {
      failed = true
      console.error(`${relative(rootDir, dir)}: ${problem}`)
    }
  }
  process.exit(failed ? 1 : 0)
}
