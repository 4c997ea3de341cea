import type { PublicError } from '@pikku/core/protocol'
import { httpStatusOf, type OutgoingHTTP } from '@pikku/http'
import { JSON_RPC_CODE } from './json-rpc-codes.js'

const JSON_TYPE = 'application/json'

/** A JSON-RPC error answered without the SDK (before a request reaches it). */
export function jsonRpcError(
  status: number,
  code: number,
  message: string,
  id: string | number | null = null,
  headers: readonly (readonly [string, string])[] = [],
  data?: PublicError,
): OutgoingHTTP {
  return {
    status,
    headers: [['content-type', JSON_TYPE], ...headers],
    body: JSON.stringify({ jsonrpc: '2.0', error: data === undefined ? { code, message } : { code, message, data }, id }),
  }
}

/** The answer for an error thrown before the SDK: the HTTP status of its code, and the public error as `data`. */
export function publicErrorResponse(error: PublicError): OutgoingHTTP {
  // The HTTP status of each code is @pikku/http's to own (HTTP_STATUS).
  return jsonRpcError(httpStatusOf(error.code), JSON_RPC_CODE[error.code], error.message, null, [], error)
}

/** 404 tells the client to start a new session (MCP transport specification, session management). */
export function sessionNotFound(): OutgoingHTTP {
  return jsonRpcError(404, JSON_RPC_CODE.NOT_FOUND, 'Session not found: initialize a new MCP session')
}

/** A plain JSON answer (the protected-resource metadata and its errors). */
export function jsonResponse(status: number, body: unknown, headers: readonly (readonly [string, string])[] = []): OutgoingHTTP {
  return { status, headers: [['content-type', JSON_TYPE], ...headers], body: JSON.stringify(body) }
}

/** `response` with more headers. */
export function withHeaders(response: OutgoingHTTP, headers: readonly (readonly [string, string])[]): OutgoingHTTP {
  return headers.length === 0 ? response : { ...response, headers: [...response.headers, ...headers] }
}
