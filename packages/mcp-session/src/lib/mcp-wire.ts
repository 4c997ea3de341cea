import type { CredentialKind } from '@pikku/core'

/** The MCP transport a call arrived on. */
export type MCPTransportKind = 'streamable-http' | 'stdio'

/** What middleware and functions can see of an MCP call, as `wire.mcp`. */
export interface MCPWireInfo {
  readonly transport: MCPTransportKind
  /** The tool being called or listed. */
  readonly tool: string
  /**
   * Which credential identified the caller: the kind the authenticator reported for a credential
   * on this request (`'bearer'`, `'api-key'`, `'oauth'`…; on stdio, for the configured token), or
   * `'in-band'` for the session the `login` tool started in this MCP session (HTTP) or on this
   * connection (stdio). Undefined for an anonymous caller.
   */
  readonly credential: CredentialKind | undefined
}

declare module '@pikku/core' {
  interface PikkuWire {
    /** Present on calls that arrived over MCP. */
    readonly mcp?: MCPWireInfo
  }
}
