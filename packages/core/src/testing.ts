export { createTestClock, type TestClock } from './lib/test-clock.js'
export { testServiceAvailable, type TestServiceCheck } from './lib/test-service.js'
