import type { CompiledCommand } from './cli-command.js'
import type { CLIIO } from './cli-options.js'
import { formatFailure, toFailure } from './failure-report.js'
import { formatHuman } from './human-output.js'

/** Writes `text` as whole lines. */
export function writeLine(stream: NodeJS.WritableStream, text: string): void {
  stream.write(text.endsWith('\n') ? text : `${text}\n`)
}

/** Prints anything thrown while handling a command on stderr and returns its exit code. */
export function reportFailure(io: CLIIO, json: boolean, error: unknown, command?: CompiledCommand): number {
  const failure = toFailure(error)
  writeLine(io.stderr, formatFailure(failure, json, command))
  return failure.exitCode
}

/**
 * Prints a command's result on stdout: one JSON document with `--json`, else the command's
 * `format` or a `key: value` listing. A login's token field is never printed.
 */
export function printResult(io: CLIIO, json: boolean, command: CompiledCommand, result: unknown): void {
  const shown = command.role === 'login' ? withoutField(result, command.tokenField) : result
  if (json) {
    writeLine(io.stdout, JSON.stringify(shown ?? null))
    return
  }
  const text = command.format !== undefined ? command.format(shown) : formatHuman(shown)
  if (text !== '') writeLine(io.stdout, text)
}

function withoutField(result: unknown, field: string): unknown {
  if (typeof result !== 'object' || result === null || Array.isArray(result) || !(field in result)) return result
  const copy: Record<string, unknown> = { ...result }
  delete copy[field]
  return copy
}
