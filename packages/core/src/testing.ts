export { describeSessionStoreConformance, type SessionStoreConformanceOptions } from './lib/store-conformance.js'
export { createTestClock, type TestClock } from './lib/test-clock.js'
export { testServiceAvailable, type TestServiceCheck } from './lib/test-service.js'
