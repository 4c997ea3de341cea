import { describe, expect, it } from 'vitest'
import { createBlockChecker, packageDirOf } from './block-checker.js'
import { extractBlocks } from './readme-blocks.js'

// The markers a README uses for fragments, and the checker reporting a block that does not compile.

const markdown = [
  '# Title',
  '',
  '<!-- ts-prelude',
  "import type { SessionManager } from '@pikku/core'",
  'declare const sessions: SessionManager',
  '-->',
  '<!-- ts-module ./functions.ts',
  'export const answer = 42',
  '-->',
  '```ts',
  "import { answer } from './functions.js'",
  'const n: number = answer',
  'void sessions.loadByToken',
  '```',
  '',
  '```ts file=src/app.ts',
  'not checked here',
  '```',
  '',
  '<!-- ts-skip: alternatives -->',
  '```typescript',
  'const a = 1',
  '```',
  '',
  '- in a list:',
  '',
  '  ```tsx',
  '  const b: string = 1',
  '  ```',
  '',
].join('\n')

describe('the README block extractor', () => {
  const blocks = extractBlocks(markdown, 'EXAMPLE.md')

  it('reads preludes, modules and skips, leaves file= blocks out, and dedents list blocks', () => {
    expect(blocks.map(({ line, language, skip }) => ({ line, language, skip }))).toEqual([
      { line: 10, language: 'ts', skip: undefined },
      { line: 21, language: 'ts', skip: 'alternatives' },
      { line: 27, language: 'tsx', skip: undefined },
    ])
    expect(blocks[0]!.prelude).toBe("import type { SessionManager } from '@pikku/core'\ndeclare const sessions: SessionManager\n")
    expect(blocks[0]!.modules).toEqual([{ path: './functions.ts', code: 'export const answer = 42\n' }])
    expect(blocks[2]!.code).toBe('const b: string = 1\n')
  })

  it('compiles a block with its prelude and modules, and reports a broken one at its Markdown line', () => {
    const check = createBlockChecker(packageDirOf(import.meta.url))
    expect(check(blocks[0]!, 0)).toEqual([])
    expect(check(blocks[2]!, 2)).toEqual(["EXAMPLE.md:28: Type 'number' is not assignable to type 'string'."])
  })
})
