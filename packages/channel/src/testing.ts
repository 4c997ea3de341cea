export * from './lib/test-client.js'
