import { BadRequestError } from '@pikku/core'

/** How a flag's text becomes a value of the function's input. */
export type FlagKind = 'string' | 'number' | 'integer' | 'boolean' | 'string-list' | 'number-list' | 'json'

/** One input field exposed as a flag, derived from the input's JSON Schema. */
export interface InputFlag {
  /** The input field. */
  readonly field: string
  /** The flag, without dashes (`userId` becomes `user-id`). */
  readonly flag: string
  readonly kind: FlagKind
  readonly required: boolean
  readonly description?: string
  /** Allowed values, from `enum` / `const`. */
  readonly choices?: readonly string[]
  readonly defaultValue?: unknown
}

type ParseArgsOption = { type: 'string' | 'boolean'; multiple?: boolean; short?: string }

const FIELD_PATTERN = /^[A-Za-z][A-Za-z0-9_]*$/

/**
 * Reads the flags from a function's input JSON Schema (as `inputJsonSchema` returns it). Only
 * object schemas have flags; fields whose names cannot be flags are reachable with `--input`.
 */
export function flagsFromSchema(schema: Record<string, unknown> | undefined): InputFlag[] {
  if (schema === undefined) return []
  const properties = schema['properties']
  if (typeof properties !== 'object' || properties === null) return []
  const required = new Set(Array.isArray(schema['required']) ? (schema['required'] as unknown[]).filter((name) => typeof name === 'string') : [])
  const flags: InputFlag[] = []
  for (const [field, raw] of Object.entries(properties as Record<string, unknown>)) {
    if (!FIELD_PATTERN.test(field) || typeof raw !== 'object' || raw === null) continue
    const property = raw as Record<string, unknown>
    const description = typeof property['description'] === 'string' ? property['description'] : undefined
    const choices = choicesOf(property)
    flags.push({
      field,
      flag: toFlagName(field),
      kind: kindOf(property),
      required: required.has(field),
      ...(description === undefined ? {} : { description }),
      ...(choices === undefined ? {} : { choices }),
      ...('default' in property ? { defaultValue: property['default'] } : {}),
    })
  }
  return flags
}

/** `userId` → `user-id`. */
export function toFlagName(field: string): string {
  return field.replace(/([a-z0-9])([A-Z])/g, '$1-$2').replace(/_/g, '-').toLowerCase()
}

/** The `node:util` parseArgs options for these flags (booleans also get a `--no-` form). */
export function parseArgsOptions(flags: readonly InputFlag[]): Record<string, ParseArgsOption> {
  const options: Record<string, ParseArgsOption> = {}
  for (const flag of flags) {
    if (flag.kind === 'boolean') {
      options[flag.flag] = { type: 'boolean' }
      options[`no-${flag.flag}`] = { type: 'boolean' }
    } else if (flag.kind === 'string-list' || flag.kind === 'number-list') {
      options[flag.flag] = { type: 'string', multiple: true }
    } else {
      options[flag.flag] = { type: 'string' }
    }
  }
  return options
}

/**
 * Converts parsed flag text to input values. Text that does not convert (`--count ten`) is passed
 * through unchanged so the function's schema reports it with its own message.
 */
export function convertFlag(flag: InputFlag, value: string | boolean | readonly (string | boolean)[]): unknown {
  switch (flag.kind) {
    case 'boolean':
      return value === true
    case 'number':
    case 'integer':
      return toNumber(String(value))
    case 'string-list':
      return Array.isArray(value) ? value.map(String) : [String(value)]
    case 'number-list':
      return (Array.isArray(value) ? value : [value]).map((item) => toNumber(String(item)))
    case 'json': {
      const text = String(value)
      try {
        return JSON.parse(text) as unknown
      } catch {
        // A bare word for a field of mixed type is most likely meant as a string.
        if (/^[^{["\d-]/.test(text) && text !== 'true' && text !== 'false' && text !== 'null') return text
        throw new BadRequestError(`--${flag.flag} takes JSON; ${JSON.stringify(text.slice(0, 40))} is not valid JSON`)
      }
    }
    default:
      return String(value)
  }
}

/** What `--flag <value>` looks like in help. */
export function flagValueHint(flag: InputFlag): string {
  if (flag.kind === 'boolean') return ''
  if (flag.choices !== undefined) return ` <${flag.choices.join('|')}>`
  switch (flag.kind) {
    case 'number':
    case 'integer':
      return ' <number>'
    case 'string-list':
      return ' <value>...'
    case 'number-list':
      return ' <number>...'
    case 'json':
      return ' <json>'
    default:
      return ' <string>'
  }
}

function toNumber(text: string): number | string {
  if (text.trim() === '') return text
  const number = Number(text)
  return Number.isFinite(number) ? number : text
}

function typesOf(property: Record<string, unknown>): string[] {
  const type = property['type']
  if (typeof type === 'string') return [type]
  if (Array.isArray(type)) return type.filter((item): item is string => typeof item === 'string')
  const union = (property['anyOf'] ?? property['oneOf']) as unknown
  if (Array.isArray(union)) {
    return union.flatMap((member) => (typeof member === 'object' && member !== null ? typesOf(member as Record<string, unknown>) : []))
  }
  if (Array.isArray(property['enum']) || 'const' in property) {
    const values = Array.isArray(property['enum']) ? (property['enum'] as unknown[]) : [property['const']]
    return [...new Set(values.map((value) => (value === null ? 'null' : typeof value)))]
  }
  return []
}

function kindOf(property: Record<string, unknown>): FlagKind {
  const types = typesOf(property).filter((type) => type !== 'null')
  const unique = [...new Set(types.map((type) => (type === 'integer' ? 'number' : type)))]
  if (unique.length !== 1) return unique.length === 0 ? 'string' : 'json'
  const only = types[0]
  if (only === 'string') return 'string'
  if (only === 'boolean') return 'boolean'
  if (only === 'integer') return 'integer'
  if (only === 'number') return 'number'
  if (only === 'array') {
    const items = property['items']
    const itemTypes = typeof items === 'object' && items !== null ? typesOf(items as Record<string, unknown>).filter((type) => type !== 'null') : []
    if (itemTypes.length === 1 && itemTypes[0] === 'string') return 'string-list'
    if (itemTypes.length === 1 && (itemTypes[0] === 'number' || itemTypes[0] === 'integer')) return 'number-list'
  }
  return 'json'
}

function choicesOf(property: Record<string, unknown>): string[] | undefined {
  if (Array.isArray(property['enum']) && property['enum'].every((value) => typeof value === 'string')) return property['enum'] as string[]
  if (typeof property['const'] === 'string') return [property['const']]
  const union = (property['anyOf'] ?? property['oneOf']) as unknown
  if (Array.isArray(union)) {
    const values = union.flatMap((member) => (typeof member === 'object' && member !== null ? (choicesOf(member as Record<string, unknown>) ?? []) : []))
    return values.length > 0 ? values : undefined
  }
  return undefined
}
