import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js'
import {
  CallToolRequestSchema,
  ErrorCode,
  InitializeRequestSchema,
  isJSONRPCRequest,
  type JSONRPCMessage,
  ListToolsRequestSchema,
  PingRequestSchema,
} from '@modelcontextprotocol/sdk/types.js'
import { BadRequestError, type InputIssue } from '@pikku/core'
import { type PublicError, validateInput } from '@pikku/core/protocol'
import { ProtocolError } from './protocol-error.js'
import type { MCPTool } from './tools.js'

// The requests this server answers, with the SDK's own schema for each. The SDK parses a request
// with the schema before its handler runs and reports a mismatch as -32603 "Internal error" with
// the schema library's dump as the message: a caller's mistake that looks like a crash.
type RequestSchema = Parameters<typeof validateInput>[0]
const REQUEST_SCHEMAS: ReadonlyMap<string, RequestSchema> = new Map<string, RequestSchema>([
  ['initialize', InitializeRequestSchema],
  ['ping', PingRequestSchema],
  ['tools/list', ListToolsRequestSchema],
  ['tools/call', CallToolRequestSchema],
])

/** The public form of a bad-request error, as the HTTP adapter sends it in a 400 body. */
function publicBadRequest(error: BadRequestError): PublicError {
  return error.details === undefined
    ? { code: 'BAD_REQUEST', message: error.message }
    : { code: 'BAD_REQUEST', message: error.message, details: error.details }
}

function invalidParams(error: BadRequestError): ProtocolError {
  return new ProtocolError(ErrorCode.InvalidParams, error.message, publicBadRequest(error))
}

/**
 * Checks a request's params against the SDK schema of its method: undefined when they fit (or the
 * method is not one this server answers: the SDK says "method not found" itself), else the
 * JSON-RPC `-32602 Invalid params` error to answer with, listing each issue readably.
 */
export async function checkRequestParams(message: JSONRPCMessage): Promise<ProtocolError | undefined> {
  if (!isJSONRPCRequest(message)) return undefined
  const schema = REQUEST_SCHEMAS.get(message.method)
  if (schema === undefined) return undefined
  try {
    await validateInput(schema, message)
    return undefined
  } catch (error) {
    if (!(error instanceof BadRequestError)) throw error
    // The issues' paths start at the message; callers think in params.
    return invalidParams(new BadRequestError(error.message.replace(/^Invalid input: /, `Invalid params for ${message.method}: `), { details: error.details }))
  }
}

/**
 * Answers requests whose params do not fit their method with `-32602 Invalid params` before the
 * SDK parses them. Call after `server.connect(transport)`: it wraps the handler the SDK installed.
 * Messages keep their order: each is handed on once the ones before it were.
 */
export function guardRequestParams(transport: Transport, onError: (error: Error) => void): void {
  const receive = transport.onmessage
  if (receive === undefined) throw new Error('guardRequestParams must be called after server.connect(transport)')
  let previous: Promise<void> = Promise.resolve()
  transport.onmessage = (message, extra) => {
    previous = previous.then(async () => {
      let refusal: ProtocolError | undefined
      try {
        refusal = await checkRequestParams(message)
      } catch (error) {
        // A schema that throws is not the caller's fault: the SDK answers as it would have.
        onError(error as Error)
      }
      if (refusal === undefined) {
        receive.call(transport, message, extra)
        return
      }
      const id = (message as { id: string | number }).id
      await transport
        .send({ jsonrpc: '2.0', id, error: { code: refusal.code, message: refusal.message, data: refusal.data } })
        .catch((error: unknown) => onError(error as Error))
    })
  }
}

/**
 * The data a tool call passes to its function, checked with the function's own input schema (the
 * same check, and the same message, as an HTTP call's 400). Throws `-32602 Invalid params` with
 * the public bad-request error (its `details.issues` list) as `data`.
 */
export async function toolInput(tool: MCPTool, args: Record<string, unknown> | undefined): Promise<unknown> {
  let data: unknown = args
  if (tool.wrapsInput) {
    const extra = args === undefined ? [] : Object.keys(args).filter((key) => key !== 'input')
    if (extra.length > 0) {
      const issues: InputIssue[] = extra.map((key) => ({ path: key, message: 'Unknown argument: this tool takes only { input }' }))
      throw invalidParams(new BadRequestError(`Invalid input: ${issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}`, { details: { issues } }))
    }
    data = args?.['input']
  }
  if (tool.func.input === undefined) return data
  try {
    await validateInput(tool.func.input, data)
  } catch (error) {
    if (error instanceof BadRequestError) throw invalidParams(error)
    throw error
  }
  // The runner validates (and transforms) the input itself: it gets what the caller sent.
  return data
}
