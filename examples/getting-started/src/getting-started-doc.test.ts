import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

// docs/getting-started.md shows this app's files exactly as they are compiled and run by the other
// tests of this package: each code block marked `file=<path>` must be that file, character for
// character.

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const doc = readFileSync(join(root, '..', '..', 'docs', 'getting-started.md'), 'utf8')
const blocks = [...doc.matchAll(/^```[a-z]+ file=(\S+)\n([\s\S]*?)^```$/gm)].map(([, file, code]) => ({ file: file!, code: code! }))

const FILES = ['src/types/application-types.d.ts', 'src/functions.ts', 'src/app.ts', 'src/database.ts', 'src/passwords.ts', 'src/main.ts']

describe('docs/getting-started.md', () => {
  it('shows every file of the app', () => {
    expect(blocks.map((block) => block.file).sort()).toEqual([...FILES].sort())
  })

  it.each(FILES)('shows %s exactly as the file the tests compile and run', (file) => {
    expect(blocks.find((candidate) => candidate.file === file)?.code).toBe(readFileSync(join(root, file), 'utf8'))
  })
})
