/** The MCP transport a call arrived on. */
export type MCPTransportKind = 'streamable-http' | 'stdio'

/**
 * Which credential identified the caller:
 * - `bearer`: an `Authorization: Bearer` token on this HTTP request;
 * - `mcp-session`: a user session started by the `login` tool in this MCP session (HTTP);
 * - `token`: the stdio server's configured token (option, environment variable or loader);
 * - `connection`: a user session started by the `login` tool on this stdio connection.
 */
export type MCPCredentialSource = 'bearer' | 'mcp-session' | 'token' | 'connection'

/** What middleware and functions can see of an MCP call, as `wire.mcp`. */
export interface MCPWireInfo {
  readonly transport: MCPTransportKind
  /** The tool being called or listed. */
  readonly tool: string
  /** Undefined for an anonymous caller. */
  readonly credential: MCPCredentialSource | undefined
}

declare module '@pikku/core' {
  interface PikkuWire {
    /** Present on calls that arrived over MCP. */
    readonly mcp?: MCPWireInfo
  }
}
