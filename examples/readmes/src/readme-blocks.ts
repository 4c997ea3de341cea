import { readdirSync, readFileSync, existsSync } from 'node:fs'
import { join, relative } from 'node:path'

/**
 * The ```ts / ```typescript / ```tsx blocks of a Markdown file, each with the directives written in
 * HTML comments (invisible when rendered) directly before it:
 *
 * - `<!-- ts-prelude … -->`: code placed before the block, in the same file, for a fragment that
 *   uses names the page defined elsewhere (`declare const sessions: SessionManager`).
 * - `<!-- ts-module ./name.ts … -->`: a file beside the block, for its relative imports (and for
 *   `@/name`, the Next.js alias).
 * - `<!-- ts-skip: reason -->`: not compiled; the reason is shown in the test's name.
 *
 * A block with an attribute `file=<path>` is a file of a package, compiled and run by that
 * package's tests, and is left out here.
 */
export interface CodeBlock {
  /** The Markdown file, relative to the repository root. */
  readonly file: string
  /** 1-based line of the opening fence. */
  readonly line: number
  readonly language: 'ts' | 'tsx'
  readonly code: string
  readonly prelude: string | undefined
  readonly modules: readonly { readonly path: string; readonly code: string }[]
  readonly skip: string | undefined
}

const FENCE = /^( {0,3})```(tsx|typescript|ts)(?![\w-])([^\n`]*)\n([\s\S]*?)^ {0,3}```[ \t]*$/gm
const TRAILING_COMMENTS = /(?:<!--[\s\S]*?-->\s*)+$/
const COMMENT = /<!--([\s\S]*?)-->/g

export function extractBlocks(markdown: string, file: string): CodeBlock[] {
  const blocks: CodeBlock[] = []
  let previousEnd = 0
  for (const match of markdown.matchAll(FENCE)) {
    const [whole, indent, language, attributes, body] = match as unknown as [string, string, string, string, string]
    const start = match.index
    const gap = markdown.slice(previousEnd, start)
    previousEnd = start + whole.length
    if (/\bfile=\S+/.test(attributes)) continue
    let prelude: string | undefined
    let skip: string | undefined
    const modules: { path: string; code: string }[] = []
    const trailing = TRAILING_COMMENTS.exec(gap)?.[0] ?? ''
    for (const [, comment] of trailing.matchAll(COMMENT)) {
      const text = comment!.replace(/^\s+/, '')
      if (text.startsWith('ts-prelude')) prelude = (prelude === undefined ? '' : `${prelude}\n`) + text.slice('ts-prelude'.length).replace(/^[ \t]*\n/, '')
      else if (text.startsWith('ts-module')) {
        const [, path, code] = /^ts-module[ \t]+(\S+)[ \t]*\n([\s\S]*)$/.exec(text) ?? []
        if (path === undefined || code === undefined) throw new Error(`${file}: a ts-module comment needs a path and code: <!-- ts-module ./name.ts\\n… -->`)
        modules.push({ path, code })
      } else if (text.startsWith('ts-skip')) skip = text.slice('ts-skip'.length).replace(/^[:\s]+/, '').trim() || 'no reason given'
    }
    // Code indented with its fence (inside a list item) is dedented by the fence's indent.
    const code = indent.length === 0 ? body : body.replace(new RegExp(`^ {0,${indent.length}}`, 'gm'), '')
    blocks.push({
      file,
      line: markdown.slice(0, start).split('\n').length,
      language: language === 'tsx' ? 'tsx' : 'ts',
      code,
      prelude,
      modules,
      skip,
    })
  }
  return blocks
}

/** The Markdown files whose code is checked: every README (root, packages, examples) and docs/*.md. */
export function documentationFiles(root: string): string[] {
  const files = ['README.md']
  for (const parent of ['packages', 'examples']) {
    for (const entry of readdirSync(join(root, parent), { withFileTypes: true })) {
      if (entry.isDirectory() && existsSync(join(root, parent, entry.name, 'README.md'))) files.push(join(parent, entry.name, 'README.md'))
    }
  }
  for (const entry of readdirSync(join(root, 'docs'))) if (entry.endsWith('.md')) files.push(join('docs', entry))
  return files.sort()
}

export function blocksOf(root: string): CodeBlock[] {
  return documentationFiles(root).flatMap((file) => extractBlocks(readFileSync(join(root, file), 'utf8'), relative(root, join(root, file))))
}
