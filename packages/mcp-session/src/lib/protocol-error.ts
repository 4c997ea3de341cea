/**
 * A JSON-RPC error for the SDK to send as it is. The SDK's `McpError` puts "MCP error <code>: " in
 * front of its message, and a server that throws one sends that prefix on the wire, so the client
 * shows it twice; this error's `message` is exactly what the client receives.
 */
export class ProtocolError extends Error {
  readonly code: number
  readonly data: unknown

  constructor(code: number, message: string, data?: unknown) {
    super(message)
    this.name = 'ProtocolError'
    this.code = code
    this.data = data
  }
}
