export { createOAuthServer, AUTHORIZATION_SERVER_METADATA_PATH, type OAuthServer } from './lib/oauth-server.js'
export { MCP_TOOLS_SCOPE, type OAuthServerOptions, type OAuthSignInOptions, type ClientMetadataDocumentOptions } from './lib/options.js'
export { type OAuthAuthentication } from './lib/access-token-authenticator.js'
export { requireScope, type InsufficientScopeDetails } from './lib/scopes.js'
