export { wireMCP, type MCPTool, type MCPToolConfig, type MCPTools, type ToolInputSchema, type WireMCPOptions } from './lib/tools.js'
export type { MCPTransportKind, MCPWireInfo } from './lib/mcp-wire.js'
export { createMCPHTTPHandler, type MCPHTTPHandler } from './lib/http-handler.js'
export type {
  AnonymousSessionOptions,
  MCPHTTPHandlerFlatOptions,
  MCPHTTPHandlerOptions,
  MCPHTTPOptions,
  MCPMetadataOptions,
  MCPSessionLifetimeOptions,
  MCPSessionOptions,
} from './lib/options.js'
export type { AuthenticateToken } from './lib/credentials.js'
export { serveMCPStdio, type MCPStdioOptions, type MCPStdioServer } from './lib/stdio-server.js'
export { JSON_RPC_CODE } from './lib/json-rpc-codes.js'
export {
  bearerChallenge,
  PROTECTED_RESOURCE_PATH,
  protectedResourceMetadata,
  protectedResourceMetadataUrl,
  type ProtectedResourceMetadataOptions,
} from './lib/protected-resource.js'
export { mcpSessionStorageId, type MCPSessionData } from './lib/mcp-sessions.js'
