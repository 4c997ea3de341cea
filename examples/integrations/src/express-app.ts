import express from 'express'
import { pikkuErrorHandler, pikkuRoutes, pikkuSession } from '@pikku/express'
import { exchangeCode } from './identity-provider.js'
import { handler, httpSessions } from './pikku.js'

export const app = express()
app.use(express.json()) // before or after the Pikku routes: either works
app.use(pikkuSession({ sessions: httpSessions })) // req.userSession on every route
app.use('/api', pikkuRoutes(handler)) // POST /api/login, GET /api/profile, …; other requests fall through

app.get('/whoami', async (req, res) => {
  const session = await req.userSession.get()
  res.json({ user: session?.email ?? null })
})

app.get('/auth/callback', async (req, res) => {
  const user = await exchangeCode(String(req.query['code']))
  if (user === undefined) {
    res.status(401).json({ error: 'login failed' })
    return
  }
  await req.userSession.set(user, { login: true }) // stored, and the cookie set, before the redirect
  res.redirect(303, '/whoami')
})

app.post('/auth/logout', async (req, res) => {
  await req.userSession.clear()
  res.json({ loggedOut: true })
})

app.get('/api/status', (_req, res) => {
  res.json({ status: 'ok' })
})
app.get('/about', (_req, res) => {
  res.send('An Express app with Pikku routes')
})

app.use(pikkuErrorHandler()) // a 503 or 403 from req.userSession, answered as Pikku answers it
