import { GLOBAL_FLAGS } from './cli-arguments.js'
import type { CompiledCommand } from './cli-command.js'
import { CLIFailure } from './cli-failure.js'
import { convertFlag } from './input-flags.js'

const INPUT_EXAMPLE = '\'{"theme":"dark"}\''

/**
 * The function's input from parsed arguments: `--input <json>` first, then flags (a command
 * without an input schema takes any `--<field> <value>`), then positionals. Nothing is validated here beyond the shape of the arguments; the function's schema
 * does that when the runner calls it.
 */
export function buildCommandInput(app: string, command: CompiledCommand, values: Readonly<Record<string, unknown>>, positionals: readonly string[]): unknown {
  let data: Record<string, unknown> | undefined
  if (typeof values['input'] === 'string') {
    let parsed: unknown
    try {
      parsed = JSON.parse(values['input'])
    } catch {
      throw new CLIFailure('BAD_REQUEST', `--input must be a JSON object, such as ${INPUT_EXAMPLE}`)
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new CLIFailure('BAD_REQUEST', `--input must be a JSON object, such as ${INPUT_EXAMPLE}`)
    }
    data = { ...(parsed as Record<string, unknown>) }
  }
  if (command.genericInput) {
    // No schema, so no known flags: every non-global flag is a field (see generic-flags.ts).
    for (const [field, value] of Object.entries(values)) {
      if (!(GLOBAL_FLAGS as readonly string[]).includes(field)) (data ??= {})[field] = value
    }
  }
  for (const flag of command.flags) {
    const value = values[flag.flag]
    const negated = values[`no-${flag.flag}`]
    if (value !== undefined && negated !== undefined) {
      throw new CLIFailure('BAD_REQUEST', `--${flag.flag} and --no-${flag.flag} cannot both be given`)
    }
    if (negated === true) (data ??= {})[flag.field] = false
    else if (value !== undefined) (data ??= {})[flag.field] = convertFlag(flag, value as string | boolean | string[])
  }
  if (positionals.length > command.positionals.length) {
    const extra = positionals[command.positionals.length]!
    throw new CLIFailure('BAD_REQUEST', `Unexpected argument ${JSON.stringify(extra)}`, { hint: `Run \`${app} ${command.name} --help\` for usage.` })
  }
  positionals.forEach((value, index) => {
    const field = command.positionals[index]!
    const flag = command.flags.find((candidate) => candidate.field === field)!
    if (data?.[field] !== undefined) {
      throw new CLIFailure('BAD_REQUEST', `${field} was given twice: as an argument and as --${flag.flag}`)
    }
    ;(data ??= {})[field] = convertFlag(flag, value)
  })
  if (data === undefined && command.func.input !== undefined) data = {}
  return data
}
