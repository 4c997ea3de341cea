import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

// The user-sessions documentation page's examples, pasted as the page has them below the imports
// the page leaves out, compile once the app declares its types as docs/getting-started.md shows;
// without that declaration, every error names `Register`.

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const read = (path: string): string => readFileSync(join(root, path), 'utf8')
const pageBlocks = [...read('page/user-sessions-examples.md').matchAll(/^```typescript\n([\s\S]*?)^```$/gm)].map(([, code]) => code!)
const typesPath = join(root, 'src/types/application-types.d.ts')

/** Type-checks the package as `tsc -p tsconfig.json` does, with `replace` swapping file contents. */
function diagnostics(replace: ReadonlyMap<string, string> = new Map()): string[] {
  const config = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })
  if (config === undefined) throw new Error('tsconfig.json did not parse')
  const host = ts.createCompilerHost(config.options)
  const readFile = host.readFile.bind(host)
  host.readFile = (fileName) => replace.get(fileName) ?? readFile(fileName)
  const program = ts.createProgram({ rootNames: config.fileNames, options: config.options, host })
  return ts.getPreEmitDiagnostics(program).map((diagnostic) => {
    const text = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')
    if (diagnostic.file === undefined || diagnostic.start === undefined) return text
    const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start)
    return `${diagnostic.file.fileName.slice(root.length + 1)}:${line + 1}: ${text}`
  })
}

describe("the user-sessions page's examples", () => {
  it('are in src/functions.ts exactly as the page has them, below the imports it leaves out', () => {
    expect(pageBlocks).toHaveLength(7)
    const functions = read('src/functions.ts')
    const examples = pageBlocks.slice(1).join('\n')
    expect(functions.endsWith(examples)).toBe(true)
    // Above the examples: imports only (and one comment line), nothing that changes them.
    const prelude = functions.slice(0, functions.length - examples.length).trim().split('\n')
    expect(prelude.every((line) => line.startsWith('import ') || line.startsWith('//'))).toBe(true)
  })

  it("start from the page's UserSession: every field it declares is declared the same way", () => {
    const pageFields = pageBlocks[0]!.match(/^ {2}\w+: .+$/gm)
    expect(pageFields).toHaveLength(4)
    const declared = read('src/types/application-types.d.ts')
    for (const field of pageFields!) expect(declared).toContain(`\n${field}\n`)
  })

  it('compile with no error once Register is declared', () => {
    expect(diagnostics()).toEqual([])
  }, 60_000)

  it('without the Register declaration, fail with errors that all name Register', () => {
    const declared = read('src/types/application-types.d.ts')
    const at = declared.indexOf("declare module '@pikku/core'")
    expect(at).toBeGreaterThan(0)
    const errors = diagnostics(new Map([[typesPath, declared.slice(0, at)]]))
    expect(errors.length).toBeGreaterThan(0)
    expect(errors.filter((error) => !error.includes('add_declare_module_Register'))).toEqual([])
    expect(errors.join('\n')).toMatch(/'UserSession_is_not_declared__add_declare_module_Register'/)
    expect(errors.join('\n')).toMatch(/'Services_are_not_declared__add_declare_module_Register'/)
  }, 60_000)
})
