export { describeSessionStoreConformance, type SessionStoreConformanceOptions } from './lib/store-conformance.js'
export { createTestClock, type TestClock } from './lib/test-clock.js'
