import { dirname, join } from 'node:path'
import ts from 'typescript'
import type { CodeBlock } from './readme-blocks.js'

/**
 * Type-checks code blocks, each as a program of its own (blocks declare `Register` differently),
 * with the repository's compiler options, against the packages' built declarations as an app
 * installing them sees them. Files from disk are parsed once and shared by every program.
 */
export function createBlockChecker(packageDir: string): (block: CodeBlock, index: number) => string[] {
  const config = ts.getParsedCommandLineOfConfigFile(join(packageDir, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })
  if (config === undefined) throw new Error('tsconfig.json did not parse')
  const cache = new Map<string, ts.SourceFile | undefined>()
  let oldProgram: ts.Program | undefined

  return (block, index) => {
    // Inside this package, so that imports resolve from its node_modules; never written to disk.
    const dir = join(packageDir, '.readme-blocks', String(index))
    const main = join(dir, `block.${block.language}`)
    const prelude = block.prelude === undefined ? '' : `${block.prelude}\n`
    const virtual = new Map<string, string>([[main, prelude + block.code]])
    for (const module of block.modules) virtual.set(join(dir, module.path), module.code)
    const options: ts.CompilerOptions = {
      ...config.options,
      rootDir: undefined,
      noEmit: true,
      jsx: ts.JsxEmit.ReactJSX,
      // Next.js apps import their own files as `@/name`, resolved the bundler's way.
      baseUrl: dir,
      paths: { '@/*': ['./*'] },
      ...(/from '@\//.test(block.code) ? { module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler } : {}),
    }
    const host = ts.createCompilerHost(options)
    const getSourceFile = host.getSourceFile.bind(host)
    host.fileExists = (fileName) => virtual.has(fileName) || ts.sys.fileExists(fileName)
    host.readFile = (fileName) => virtual.get(fileName) ?? ts.sys.readFile(fileName)
    host.directoryExists = (name) => name === dir || name.startsWith(`${dir}/`) || ts.sys.directoryExists(name)
    host.getSourceFile = (fileName, languageVersion, onError) => {
      const text = virtual.get(fileName)
      if (text !== undefined) return ts.createSourceFile(fileName, text, languageVersion, true)
      if (!cache.has(fileName)) cache.set(fileName, getSourceFile(fileName, languageVersion, onError))
      return cache.get(fileName)
    }
    const program = ts.createProgram({ rootNames: [...virtual.keys()], options, host, oldProgram })
    oldProgram = program
    const preludeLines = prelude === '' ? 0 : prelude.split('\n').length - 1
    return ts.getPreEmitDiagnostics(program).map((diagnostic) => {
      const text = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')
      if (diagnostic.file === undefined || diagnostic.start === undefined) return text
      const line = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start).line + 1
      if (diagnostic.file.fileName === main) {
        return line <= preludeLines ? `(ts-prelude) line ${line}: ${text}` : `${block.file}:${block.line + line - preludeLines}: ${text}`
      }
      const name = diagnostic.file.fileName.startsWith(`${dir}/`) ? `(ts-module ${diagnostic.file.fileName.slice(dir.length + 1)})` : diagnostic.file.fileName
      return `${name} line ${line}: ${text}`
    })
  }
}

export const packageDirOf = (moduleUrl: string): string => join(dirname(new URL(moduleUrl).pathname), '..')
