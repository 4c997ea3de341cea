import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createBlockChecker, packageDirOf } from './block-checker.js'
import { blocksOf } from './readme-blocks.js'

// Every ts block of every README and docs page compiles against the built packages. A block that
// is a fragment says what it leaves out in a hidden comment before it (see README.md here):
//   <!-- ts-prelude
//   import type { SessionManager } from '@pikku/core'
//   declare const sessions: SessionManager
//   -->

const packageDir = packageDirOf(import.meta.url)
const root = join(packageDir, '..', '..')
const blocks = blocksOf(root)
const check = createBlockChecker(packageDir)

describe('README and docs code blocks', () => {
  it('are found (the extractor still matches the fences)', () => {
    expect(blocks.length).toBeGreaterThan(20)
  })

  for (const [index, block] of blocks.entries()) {
    const name = `${block.file}:${block.line} compiles`
    if (block.skip !== undefined) {
      it.skip(`${name} (ts-skip: ${block.skip})`, () => {})
      continue
    }
    it(name, () => {
      const errors = check(block, index)
      expect(
        errors,
        `${block.file}:${block.line} does not compile. If it is a fragment, add before it a hidden <!-- ts-prelude … --> with what it leaves out (imports, declare const …).`,
      ).toEqual([])
    })
  }
})
