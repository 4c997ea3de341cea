import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { describeHostScenario, type RunningHost } from '@pikku/framework-testkit'
import { afterAll } from 'vitest'
import { app as expressApp } from './express-app.js'
import { app as fastifyApp } from './fastify-app.js'
import { app as honoApp } from './hono-app.js'

// The recipes of docs/integrations.md, run as written: each passes the host scenario.

describeHostScenario('the Express recipe', async () => {
  const server = await new Promise<ReturnType<typeof expressApp.listen>>((resolve) => {
    const listening = expressApp.listen(0, '127.0.0.1', () => resolve(listening))
  })
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    pikku: '/api',
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
})

// A Fastify instance listens once: the scenario's tests share it.
let fastify: Promise<string> | undefined
afterAll(async () => {
  if (fastify !== undefined) await fastifyApp.close()
})
describeHostScenario('the Fastify recipe', async (): Promise<RunningHost> => {
  fastify ??= fastifyApp.listen({ port: 0, host: '127.0.0.1' })
  return { base: await fastify, pikku: '/api', close: async () => undefined }
})

describeHostScenario('the Hono recipe (on @hono/node-server)', async () => {
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const started = serve({ fetch: honoApp.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(started))
  })
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    pikku: '/api',
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
})
