import Fastify from 'fastify'
import { pikkuRoutes, pikkuSession } from '@pikku/fastify'
import { exchangeCode } from './identity-provider.js'
import { handler, httpSessions } from './pikku.js'

export const app = Fastify()
await app.register(pikkuSession, { sessions: httpSessions }) // request.userSession on every route
await app.register(pikkuRoutes, { handler, prefix: '/api' }) // encapsulated: its body handling stays inside

app.get('/whoami', async (request) => {
  const session = await request.userSession.get()
  return { user: session?.email ?? null }
})

app.get<{ Querystring: { code?: string } }>('/auth/callback', async (request, reply) => {
  const user = await exchangeCode(request.query.code)
  if (user === undefined) return reply.code(401).send({ error: 'login failed' })
  await request.userSession.set(user, { login: true }) // stored before the response is sent
  return reply.redirect('/whoami', 303)
})

app.post('/auth/logout', async (request) => {
  await request.userSession.clear()
  return { loggedOut: true }
})

app.get('/api/status', async () => ({ status: 'ok' }))
app.get('/about', async () => 'A Fastify app with Pikku routes')
