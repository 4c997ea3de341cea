import { type JSONRPCMessage, JSONRPCMessageSchema } from '@modelcontextprotocol/sdk/types.js'

/** The JSON-RPC codes for a body that is not a message at all (JSON-RPC 2.0 section 5.1). */
export const PARSE_ERROR = -32700
export const INVALID_REQUEST = -32600

// The SDK accepts at most this many messages in one batch; the same bound is applied here.
const MAX_BATCH = 100

export type ParsedBody =
  | { readonly ok: true; readonly raw: unknown; readonly messages: readonly JSONRPCMessage[] }
  | { readonly ok: false; readonly code: number; readonly message: string; readonly id: string | number | null }

function idOf(value: unknown): string | number | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null
  const id = (value as Record<string, unknown>)['id']
  return typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id)) ? id : null
}

/**
 * Parses a POST body into JSON-RPC messages with the SDK's own message schema. Malformed JSON is a
 * parse error (-32700); valid JSON that is not a message, or an empty or oversized batch, is an
 * invalid request (-32600). The SDK's transport would call both a parse error.
 */
export function parseJsonRpcBody(text: string): ParsedBody {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch {
    return { ok: false, code: PARSE_ERROR, message: 'Parse error: the body is not valid JSON', id: null }
  }
  const items = Array.isArray(raw) ? raw : [raw]
  if (Array.isArray(raw) && (raw.length === 0 || raw.length > MAX_BATCH)) {
    return { ok: false, code: INVALID_REQUEST, message: `Invalid Request: a batch holds 1 to ${MAX_BATCH} messages`, id: null }
  }
  const messages: JSONRPCMessage[] = []
  for (const item of items) {
    const parsed = JSONRPCMessageSchema.safeParse(item)
    if (!parsed.success) {
      return { ok: false, code: INVALID_REQUEST, message: 'Invalid Request: not a JSON-RPC 2.0 message', id: Array.isArray(raw) ? null : idOf(raw) }
    }
    messages.push(parsed.data)
  }
  return { ok: true, raw, messages }
}
