export { MemoryOAuthClientProvider, type MemoryOAuthClientProviderOptions } from './lib/memory-client-provider.js'
