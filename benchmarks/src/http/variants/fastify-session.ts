import fastifyCookie from '@fastify/cookie'
import fastifySession, { type FastifySessionOptions } from '@fastify/session'
import Fastify from 'fastify'
import { BENCH_SECRET, isLoginBody, isPreferences, newProfile, PUBLIC_BODY, type Profile } from '../app.js'
import type { RunningVariant } from '../variant.js'

declare module 'fastify' {
  interface Session {
    user?: Profile
  }
}

/**
 * fastify 5 + @fastify/cookie + @fastify/session with its default in-memory store; no storing of
 * empty sessions, no re-sending the cookie on every response, a new id at login.
 */
export function start(): RunningVariant {
  return startFastifySession(undefined)
}

/**
 * The same app over another store (connect-redis, which @fastify/session accepts as it accepts any
 * express-session store); `onClose` releases it.
 */
export function startFastifySession(store: FastifySessionOptions['store'], onClose?: () => Promise<void>): RunningVariant {
  const app = Fastify({ logger: false })
  app.register(fastifyCookie)
  app.register(fastifySession, {
    secret: BENCH_SECRET,
    saveUninitialized: false,
    rolling: false,
    cookie: { httpOnly: true, secure: false, sameSite: 'lax' },
    ...(store === undefined ? {} : { store }),
  })
  app.post('/login', async (request, reply) => {
    const body: unknown = request.body
    if (!isLoginBody(body)) return reply.code(400).send({ error: 'bad login' })
    await request.session.regenerate()
    request.session.set('user', newProfile(body.username))
    return { userId: body.username }
  })
  app.get('/profile', async (request, reply) => {
    const user = request.session.get('user')
    if (user === undefined) return reply.code(401).send({ error: 'unauthorized' })
    return user
  })
  app.put('/preferences', async (request, reply) => {
    const user = request.session.get('user')
    if (user === undefined) return reply.code(401).send({ error: 'unauthorized' })
    const body: unknown = request.body
    if (!isPreferences(body)) return reply.code(400).send({ error: 'bad preferences' })
    const preferences = { theme: body.theme, fontSize: body.fontSize }
    request.session.set('user', { ...user, preferences })
    return preferences
  })
  app.get('/public', async () => PUBLIC_BODY)
  return {
    async listen(host) {
      await app.listen({ host, port: 0 })
      const address = app.server.address()
      if (address === null || typeof address === 'string') throw new Error('no TCP address')
      return address.port
    },
    async close() {
      await app.close()
      await onClose?.()
    },
  }
}
