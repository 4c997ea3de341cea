import { parseArgs } from 'node:util'
import type { CompiledCommand } from './cli-command.js'
import { CLIFailure } from './cli-failure.js'
import { parseGenericArguments } from './generic-flags.js'

/** Flags every command understands, as `node:util` parseArgs options. */
export const GLOBAL_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
  profile: { type: 'string' },
  account: { type: 'string' },
  server: { type: 'string' },
  input: { type: 'string' },
  version: { type: 'boolean' },
  'insecure-storage': { type: 'boolean' },
} as const

/** The global flags' names; an input field that would become one of them must be renamed. */
export const GLOBAL_FLAGS = Object.keys(GLOBAL_OPTIONS) as readonly (keyof typeof GLOBAL_OPTIONS)[]

/** The global flags of one invocation, as parsed. */
export interface GlobalValues {
  help?: boolean
  json?: boolean
  profile?: string
  /** `--account`: the same as `--profile` (an account is a profile's login). */
  account?: string
  server?: string
  input?: string
  version?: boolean
  'insecure-storage'?: boolean
}

export interface ParsedArguments {
  /**
   * Flags by name (without dashes), global and the command's own; for a command without an input
   * schema, its generic flags by field name (`--user-id` as `userId`).
   */
  readonly values: Record<string, unknown>
  readonly positionals: string[]
}

/** Finds the command word, skipping global flags and their values; `rest` is argv without it. */
export function splitCommand(argv: readonly string[]): { name: string | undefined; rest: string[] } {
  let tokens
  try {
    tokens = parseArgs({ args: [...argv], options: GLOBAL_OPTIONS, strict: false, allowPositionals: true, tokens: true }).tokens
  } catch {
    return { name: undefined, rest: [...argv] }
  }
  for (const token of tokens) {
    if (token.kind === 'option-terminator') break
    if (token.kind === 'positional') {
      const rest = [...argv]
      rest.splice(token.index, 1)
      return { name: token.value, rest }
    }
  }
  return { name: undefined, rest: [...argv] }
}

/**
 * Parses the arguments after the command word: the global flags and, given a command, its own.
 * An unknown flag or a missing value is a usage failure pointing at the right `--help`.
 */
export function parseArguments(app: string, command: CompiledCommand | undefined, args: string[]): ParsedArguments {
  if (command?.genericInput === true) {
    const generic = parseGenericArguments(app, command.name, args)
    return { values: { ...generic.fields, ...generic.values }, positionals: generic.positionals }
  }
  try {
    const parsed = parseArgs({
      args,
      options: command === undefined ? GLOBAL_OPTIONS : { ...command.parseOptions, ...GLOBAL_OPTIONS },
      strict: true,
      allowPositionals: true,
    })
    return { values: parsed.values as Record<string, unknown>, positionals: parsed.positionals }
  } catch (error) {
    const message = error instanceof Error ? firstSentence(error.message) : String(error)
    const where = command === undefined ? `${app} --help` : `${app} ${command.name} --help`
    throw new CLIFailure('BAD_REQUEST', message, { hint: `Run \`${where}\` for usage.` })
  }
}

// node's parseArgs messages go on to explain the `--flag=-value` syntax; the first sentence is the
// part about the user's mistake.
function firstSentence(message: string): string {
  const end = message.indexOf('. ')
  return end === -1 ? message : message.slice(0, end + 1)
}
