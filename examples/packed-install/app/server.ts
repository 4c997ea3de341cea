// A small app as a user writes it after `npm install` of the packed tarballs: cookie sessions over
// node:http, kept in Redis through the app's own client when REDIS_URL is set, else in memory.
import { createServer } from 'node:http'
import { createMemoryStore, createRunner, createSessionManager, pikkuFunc, pikkuSessionlessFunc, type SessionStore, UnauthorizedError } from '@pikku/core'
import { createHTTPHandler, toNodeListener, wireHTTP } from '@pikku/http'
import { createHTTPSessions } from '@pikku/middleware-http-session'
import { createRedisStore } from '@pikku/session-store-redis'
import { createClient } from 'redis'

interface AppSession {
  userId: string
  email: string
}
declare module '@pikku/core' {
  interface Register {
    userSession: AppSession
  }
}

const redisUrl = process.env['REDIS_URL']
const redis = redisUrl === undefined ? undefined : createClient({ url: redisUrl })
let store: SessionStore<AppSession>
if (redis === undefined) {
  store = createMemoryStore<AppSession>()
} else {
  redis.on('error', () => undefined)
  await redis.connect()
  store = createRedisStore<AppSession>({ client: redis, keyPrefix: process.env['KEY_PREFIX'] ?? 'packed-install' })
}

const sessions = createSessionManager({ store })
const httpSessions = createHTTPSessions({ sessions, cookie: { secure: false } })

const login = pikkuSessionlessFunc<{ email: string; password: string }, { ok: true }>({
  func: async (_services, data, { session }) => {
    if (data.password !== 'right-password') throw new UnauthorizedError('Invalid credentials')
    await session.set({ userId: data.email, email: data.email })
    return { ok: true }
  },
})

const profile = pikkuFunc<void, AppSession>({
  func: async (_services, _data, { session }) => session.get(),
})

const handler = createHTTPHandler({
  runner: createRunner({ services: {} }),
  middleware: [httpSessions.middleware],
  routes: [wireHTTP({ method: 'POST', route: '/login', func: login }), wireHTTP({ method: 'GET', route: '/profile', func: profile })],
})

const server = createServer(toNodeListener(handler))
server.listen(0, '127.0.0.1', () => {
  const address = server.address()
  if (address !== null && typeof address === 'object') process.stdout.write(`listening ${address.port}\n`)
})
process.stdin.on('end', () => {
  server.close()
  void Promise.resolve(store.close?.()).then(() => redis?.destroy())
})
process.stdin.resume()
