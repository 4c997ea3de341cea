export { describeSessionStoreConformance, type SessionStoreConformanceOptions } from './lib/store-conformance.js'
