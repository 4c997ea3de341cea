import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'

// The lint's tarball check (scripts/check-package-metadata.mjs) on a package made for it, packed by
// the real `npm pack`: a test-only file in the tarball is reported, a clean package is not.

interface TestOnlyFile {
  path: string
  reason: string
}
const script = fileURLToPath(new URL('../../../scripts/check-package-metadata.mjs', import.meta.url))
const { packedFiles, testOnlyFiles } = (await import(script)) as {
  packedFiles(dir: string): string[]
  testOnlyFiles(files: string[], manifest: unknown, read: (path: string) => string): TestOnlyFile[]
}

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

/** A package in a temporary directory with these files (and a package.json with these `files`). */
function makePackage(files: Record<string, string>, packed: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'pikku-test-only-files-'))
  dirs.push(dir)
  const manifest = {
    name: 'test-only-files-example',
    version: '1.0.0',
    type: 'module',
    exports: {
      '.': { types: './dist/index.d.ts', default: './dist/index.js' },
      './testing': { types: './dist/testing.d.ts', default: './dist/testing.js' },
      './package.json': './package.json',
    },
    files: packed,
  }
  writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest))
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true })
    writeFileSync(join(dir, path), text)
  }
  return dir
}

function check(dir: string): TestOnlyFile[] {
  const manifest: unknown = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
  return testOnlyFiles(packedFiles(dir), manifest, (path) => readFileSync(join(dir, path), 'utf8'))
}

const SOURCES = {
  'src/index.ts': "export { createThing } from './lib/thing.js'\n",
  'src/lib/thing.ts': "import type { Options } from './options.js'\nexport const createThing = (options: Options) => options\n",
  'src/lib/options.ts': 'export interface Options { name: string }\n',
  // A public test utility: an entry point of its own in exports.
  'src/testing.ts': "export { createFakeClock } from './lib/fake-clock.js'\n",
  'src/lib/fake-clock.ts': 'export const createFakeClock = () => 0\n',
  'dist/index.js': 'export {}\n',
  'dist/index.d.ts': 'export {}\n',
  'dist/testing.js': 'export {}\n',
  'dist/testing.d.ts': 'export {}\n',
  'dist/lib/thing.d.ts': 'export {}\n',
}
const TEST_FILES = {
  'src/lib/thing.test.ts': "import { startApp } from './test-app.js'\n",
  // A helper with a plain name, imported by tests only: what `redis-test-servers.ts` was.
  'src/lib/test-app.ts': "import { createThing } from './thing.js'\nexport const startApp = () => createThing({ name: 'x' })\n",
  'dist/lib/test-app.d.ts': 'export {}\n',
  'src/lib/testing/cookie-client.ts': 'export {}\n',
  'src/lib/server.test-support.ts': 'export {}\n',
  'dist/lib/server.test-support.d.ts': 'export {}\n',
}

describe('the lint refuses a tarball that carries test-only files', () => {
  it('reports tests, test support, a testing/ folder and a module only tests import, in src/ and dist/', () => {
    const dir = makePackage({ ...SOURCES, ...TEST_FILES }, ['dist', 'src'])
    expect(check(dir).sort((a, b) => a.path.localeCompare(b.path))).toEqual([
      { path: 'dist/lib/server.test-support.d.ts', reason: 'test support' },
      { path: 'dist/lib/test-app.d.ts', reason: 'no entry point in "exports" imports it' },
      { path: 'src/lib/server.test-support.ts', reason: 'test support' },
      { path: 'src/lib/test-app.ts', reason: 'no entry point in "exports" imports it' },
      { path: 'src/lib/testing/cookie-client.ts', reason: 'a test folder' },
      { path: 'src/lib/thing.test.ts', reason: 'a test' },
    ])
  })

  it('passes the same package once "files" leaves them out, keeping the public ./testing entry point', () => {
    const dir = makePackage(
      { ...SOURCES, ...TEST_FILES },
      ['dist', 'src', '!src/**/*.test.ts', '!src/**/*.test-support.ts', '!dist/**/*.test-support.d.ts', '!src/lib/testing', '!src/lib/test-app.ts', '!dist/lib/test-app.d.ts'],
    )
    const files = packedFiles(dir)
    expect(files).toContain('src/testing.ts')
    expect(files).toContain('src/lib/fake-clock.ts')
    expect(check(dir)).toEqual([])
  })
})
