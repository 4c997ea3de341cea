export { MemoryOAuthClientProvider, mcpStatusWithToken, type MemoryOAuthClientProviderOptions } from './lib/memory-client-provider.js'
