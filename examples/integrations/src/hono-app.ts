import { Hono } from 'hono'
import { pikkuRoutes, pikkuSession, type PikkuSessionEnv } from '@pikku/hono'
import { exchangeCode } from './identity-provider.js'
import { handler, httpSessions } from './pikku.js'

export const app = new Hono<PikkuSessionEnv>()
app.use(pikkuSession({ sessions: httpSessions })) // c.var.userSession on every route
app.use('/api/*', async (c, next) => {
  // Any middleware may read the body through c.req first (a validator, a logger).
  if (c.req.header('content-type') === 'application/json') await c.req.json()
  await next()
})
app.use('/api/*', pikkuRoutes(handler, { basePath: '/api' }))

app.get('/whoami', async (c) => {
  const session = await c.var.userSession.get()
  return c.json({ user: session?.email ?? null })
})

app.get('/auth/callback', async (c) => {
  const user = await exchangeCode(c.req.query('code'))
  if (user === undefined) return c.json({ error: 'login failed' }, 401)
  await c.var.userSession.set(user, { login: true }) // stored after the handler, before the response leaves
  return c.redirect('/whoami', 303)
})

app.post('/auth/logout', async (c) => {
  await c.var.userSession.clear()
  return c.json({ loggedOut: true })
})

app.get('/api/status', (c) => c.json({ status: 'ok' }))
app.get('/about', (c) => c.text('A Hono app with Pikku routes'))
