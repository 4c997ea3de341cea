import { afterAll, beforeAll, describe } from 'vitest'
import { startDemoProcess, type DemoProcess } from './demo-process.test-support.js'
import { signedInEverywhereCases } from './signed-in-everywhere.scenarios.test-support.js'

// "Where you're signed in" against one running demo process (its default SQLite store): the
// user's five sessions listed and ended one by one, each on its own protocol. The same cases across
// two processes sharing Redis or PostgreSQL: signed-in-everywhere.integration.test.ts.

describe("where you're signed in, on one demo process", () => {
  let demo: DemoProcess

  beforeAll(async () => {
    demo = await startDemoProcess({ SESSION_SECRETS: 'signed-in-everywhere-secret-0123456789abcdef' })
  }, 30_000)

  afterAll(async () => {
    await demo?.stop()
  })

  signedInEverywhereCases(() => ({
    placement: { cookie: demo.url, bearer: demo.url, socket: demo.url, cli: demo.url, mcp: demo.url },
    manage: demo.url,
  }))
})
