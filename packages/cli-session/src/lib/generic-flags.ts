import { CLIFailure } from './cli-failure.js'

/**
 * The flags of a command whose function declares no `input` schema. Without a schema the CLI
 * cannot know the fields, so it takes any `--<field> <value>`: the value is a string (the CLI
 * cannot know it should be a number), `--<field>` alone is `true`, `--no-<field>` is `false`, a
 * repeated flag is a list, and `--user-id` fills `userId`. Typed or nested values go through
 * `--input <json>`, which these flags override field by field.
 */

/** The global flags and whether they take a value; `-h` is `--help`. */
const GLOBALS: Readonly<Record<string, boolean>> = { help: false, json: false, version: false, profile: true, server: true, input: true }

// Letters, digits and '_', in words joined by single dashes; at most 64 characters.
const NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)*$/

export interface GenericArguments {
  /** The global flags as parsed (`help`, `json`, `profile`, `server`, `input`, `version`). */
  readonly values: Record<string, unknown>
  /** Input fields from the other flags, by field name (`--user-id` is `userId`). */
  readonly fields: Record<string, string | boolean | (string | boolean)[]>
  readonly positionals: string[]
}

/** `user-id` → `userId`; names without dashes are kept as they are. */
export function fieldOfGenericFlag(flag: string): string {
  return flag.replace(/-([A-Za-z0-9])/g, (_match, letter: string) => letter.toUpperCase())
}

/** Parses the arguments after the command word of a command without an input schema. */
export function parseGenericArguments(app: string, command: string, args: readonly string[]): GenericArguments {
  const values: Record<string, unknown> = {}
  const fields: Record<string, string | boolean | (string | boolean)[]> = {}
  const positionals: string[] = []
  const negated = new Set<string>()
  const usage = (message: string): CLIFailure => new CLIFailure('BAD_REQUEST', message, { hint: `Run \`${app} ${command} --help\` for usage.` })
  for (let index = 0; index < args.length; index++) {
    const token = args[index]!
    if (token === '--') {
      positionals.push(...args.slice(index + 1))
      break
    }
    if (token === '-h') {
      values['help'] = true
      continue
    }
    if (!token.startsWith('--')) {
      positionals.push(token)
      continue
    }
    const equals = token.indexOf('=')
    const name = equals === -1 ? token.slice(2) : token.slice(2, equals)
    const inline = equals === -1 ? undefined : token.slice(equals + 1)
    const next = args[index + 1]
    // A following token is this flag's value unless it is itself a flag: `--note -5` sets -5.
    const takeNext = (): string | undefined => {
      if (next === undefined || next === '--' || next === '-h' || next.startsWith('--')) return undefined
      index++
      return next
    }
    if (Object.hasOwn(GLOBALS, name)) {
      if (GLOBALS[name] === true) {
        const value = inline ?? takeNext()
        if (value === undefined) throw usage(`--${name} needs a value`)
        values[name] = value
      } else {
        if (inline !== undefined) throw usage(`--${name} takes no value`)
        values[name] = true
      }
      continue
    }
    if (name.length > 64 || !NAME_PATTERN.test(name)) {
      throw usage(`${JSON.stringify(token.length > 40 ? `${token.slice(0, 40)}…` : token)} is not a flag: a flag is --<field> with letters, digits, '-' or '_'`)
    }
    let field: string
    let value: string | boolean
    if (name.startsWith('no-') && inline === undefined && name.length > 3) {
      field = fieldOfGenericFlag(name.slice(3))
      value = false
      negated.add(field)
    } else {
      field = fieldOfGenericFlag(name)
      value = inline ?? takeNext() ?? true
    }
    const existing = fields[field]
    if (existing === undefined) fields[field] = value
    else if (Array.isArray(existing)) existing.push(value)
    else fields[field] = [existing, value]
  }
  for (const field of negated) {
    const value = fields[field]
    if (Array.isArray(value)) throw usage(`--${field} was given more than once with --no-${field}; give one of them`)
  }
  return { values, fields, positionals }
}
