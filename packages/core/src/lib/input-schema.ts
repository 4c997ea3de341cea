import type { StandardJSONSchemaV1, StandardSchemaV1 } from '@standard-schema/spec'
import { BadRequestError } from './errors.js'

/** One problem found in a function's input. */
export interface InputIssue {
  /** Dotted path to the offending field; empty for the input as a whole. */
  readonly path: string
  readonly message: string
}

function pathOf(issue: StandardSchemaV1.Issue): string {
  if (issue.path === undefined) return ''
  return issue.path
    .map((segment) => (typeof segment === 'object' && segment !== null ? String(segment.key) : String(segment)))
    .join('.')
}

/**
 * Validates `data` with a Standard Schema (zod 4, valibot, arktype…). Returns the schema's output
 * or throws a `BadRequestError` listing every issue.
 */
export async function validateInput<Out>(schema: StandardSchemaV1<unknown, Out>, data: unknown): Promise<Out> {
  let result = schema['~standard'].validate(data)
  if (result instanceof Promise) result = await result
  if (result.issues === undefined) return result.value
  const issues: InputIssue[] = result.issues.map((issue) => ({ path: pathOf(issue), message: issue.message }))
  const summary = issues.map((issue) => (issue.path === '' ? issue.message : `${issue.path}: ${issue.message}`)).join('; ')
  throw new BadRequestError(`Invalid input: ${summary}`, { details: { issues } })
}

/**
 * The JSON Schema of a function's input, for protocols that describe inputs (MCP tools, CLI
 * flags). Uses the Standard JSON Schema interface, which zod 4 and others implement; undefined
 * when the schema library cannot produce one.
 */
export function inputJsonSchema(schema: StandardSchemaV1 | undefined): Record<string, unknown> | undefined {
  if (schema === undefined) return undefined
  const props = schema['~standard'] as Partial<StandardJSONSchemaV1.Props>
  if (props.jsonSchema === undefined || typeof props.jsonSchema.input !== 'function') return undefined
  try {
    return props.jsonSchema.input({ target: 'draft-2020-12' })
  } catch {
    try {
      return props.jsonSchema.input({ target: 'draft-07' })
    } catch {
      return undefined
    }
  }
}
