import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

// docs/integrations.md shows the recipes exactly as they are compiled and run by the other tests
// of this package: each code block marked `file=<path>` must be that file, character for character.

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const doc = readFileSync(join(root, '..', '..', 'docs', 'integrations.md'), 'utf8')
const blocks = [...doc.matchAll(/^```[a-z]+ file=(\S+)\n([\s\S]*?)^```$/gm)].map(([, file, code]) => ({ file: file!, code: code! }))

const RECIPES = [
  'src/pikku.ts',
  'src/identity-provider.ts',
  'src/express-app.ts',
  'src/fastify-app.ts',
  'src/hono-app.ts',
  'src/fetch-host.ts',
  'src/bun-server.ts',
  'src/deno-server.ts',
  'next-app/lib/session.ts',
  'next-app/app/api/[...pikku]/route.ts',
  'next-app/app/auth/callback/route.ts',
  'next-app/app/whoami/route.ts',
  'next-app/app/auth/logout/route.ts',
  'next-app/app/about/page.tsx',
  'next-app/app/about/actions.ts',
]

describe('docs/integrations.md', () => {
  it('shows every recipe', () => {
    expect(blocks.map((block) => block.file).sort()).toEqual([...RECIPES].sort())
  })

  it.each(RECIPES)('shows %s exactly as the file the tests run', (file) => {
    const block = blocks.find((candidate) => candidate.file === file)
    expect(block?.code).toBe(readFileSync(join(root, file), 'utf8'))
  })
})
