import { type AnyPikkuFunction } from '@pikku/core'
import { inputJsonSchema } from '@pikku/core/protocol'

/** One function exposed as a tool, with overrides of what the function itself declares. */
export interface MCPToolConfig {
  func: AnyPikkuFunction
  /** Tool name. @default the function's `name`, else its key in the `tools` map */
  name?: string
  /** @default the function's `docs` (summary, then description) */
  description?: string
}

export interface WireMCPOptions {
  /** The functions to expose, keyed by name: a function, or `{ func, name?, description? }`. */
  tools: Readonly<Record<string, AnyPikkuFunction | MCPToolConfig>>
  /** `serverInfo.name` in the initialize result. @default 'pikku' */
  name?: string
  /** `serverInfo.version` in the initialize result. @default '0.0.0' */
  version?: string
  /** Text the client may show the model on how to use the server (initialize `instructions`). */
  instructions?: string
}

/** A JSON Schema object as MCP wants for a tool input: always `type: 'object'` at the top. */
export type ToolInputSchema = { type: 'object'; [key: string]: unknown }

/** A tool ready to be listed and called. */
export interface MCPTool {
  readonly name: string
  readonly title: string | undefined
  readonly description: string
  readonly inputSchema: ToolInputSchema
  readonly func: AnyPikkuFunction
  /**
   * MCP tool arguments are always an object. A function whose input is not an object (a string, a
   * list) is offered as `{ input: … }` and unwrapped before the call.
   */
  readonly wrapsInput: boolean
}

/** The tools of an MCP server, built once; pass it to the HTTP handler and to the stdio server. */
export interface MCPTools {
  readonly serverInfo: { readonly name: string; readonly version: string }
  readonly instructions: string | undefined
  readonly tools: ReadonlyMap<string, MCPTool>
}

// The character set and length MCP (2025-11-25) allows for tool names.
const TOOL_NAME = /^[A-Za-z0-9_.-]{1,128}$/

/**
 * Declares the tools of an MCP server: each function becomes a tool named after the function,
 * described by its `docs`, with its input schema as the tool's JSON Schema. Validated now, not on
 * the first request.
 */
export function wireMCP(options: WireMCPOptions): MCPTools {
  if (options === null || typeof options !== 'object' || options.tools === null || typeof options.tools !== 'object') {
    throw new TypeError('wireMCP needs { tools: { name: pikkuFunction, … } }')
  }
  const tools = new Map<string, MCPTool>()
  for (const [key, entry] of Object.entries(options.tools)) {
    const config: MCPToolConfig = isPikkuFunction(entry) ? { func: entry } : entry
    if (!isPikkuFunction(config?.func)) {
      throw new TypeError(`wireMCP: tools.${key} must be a function from pikkuFunc/pikkuSessionlessFunc, or { func, name?, description? }`)
    }
    const name = config.name ?? config.func.name ?? key
    if (!TOOL_NAME.test(name)) {
      throw new TypeError(`wireMCP: tool name ${JSON.stringify(name)} must be 1-128 letters, digits, '_', '-' or '.'`)
    }
    if (tools.has(name)) throw new TypeError(`wireMCP: two tools are named ${JSON.stringify(name)}; give one a different name`)
    const { schema, wraps } = toolInputSchema(config.func)
    tools.set(name, {
      name,
      title: config.func.docs?.summary,
      description: config.description ?? describe(config.func),
      inputSchema: schema,
      func: config.func,
      wrapsInput: wraps,
    })
  }
  if (tools.size === 0) throw new TypeError('wireMCP: tools is empty; expose at least one function')
  return Object.freeze({
    serverInfo: Object.freeze({ name: options.name ?? 'pikku', version: options.version ?? '0.0.0' }),
    instructions: options.instructions,
    tools,
  })
}

function isPikkuFunction(value: unknown): value is AnyPikkuFunction {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'pikku-function'
}

function describe(func: AnyPikkuFunction): string {
  const parts: string[] = []
  if (func.docs !== undefined) {
    parts.push(func.docs.summary)
    if (func.docs.description !== undefined) parts.push(func.docs.description)
  }
  // Agents decide whether to log in first from this line; it costs a few tokens per tool.
  if (func.auth) parts.push('Requires a logged-in session.')
  return parts.length === 0 ? 'No description.' : parts.join('\n\n')
}

function toolInputSchema(func: AnyPikkuFunction): { schema: ToolInputSchema; wraps: boolean } {
  // No schema (the input is a TypeScript type only), or a schema library without JSON Schema
  // output: say "any object" outright, since an empty `properties` reads as "takes nothing" to
  // agents and to validating clients. The runner validates when there is a schema.
  if (func.input === undefined) return { schema: { type: 'object', additionalProperties: true }, wraps: false }
  const json = inputJsonSchema(func.input)
  if (json === undefined) return { schema: { type: 'object', additionalProperties: true }, wraps: false }
  if (json['type'] === 'object') return { schema: json as ToolInputSchema, wraps: false }
  const { $schema, ...inner } = json
  return {
    schema: {
      ...($schema === undefined ? {} : { $schema }),
      type: 'object',
      properties: { input: inner },
      required: ['input'],
      additionalProperties: false,
    },
    wraps: true,
  }
}
