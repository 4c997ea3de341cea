import { createServer } from 'node:http'
import express from 'express'
import session from 'express-session'
import { BENCH_SECRET, isLoginBody, isPreferences, newProfile, PUBLIC_BODY, type Profile } from '../app.js'
import { closeServer, listenOn } from '../node-body.js'
import type { RunningVariant } from '../variant.js'

declare module 'express-session' {
  interface SessionData {
    user: Profile
  }
}

/**
 * express 5 + express-session with its MemoryStore, configured as its documentation recommends
 * for login sessions: no resave of unchanged sessions, no storing of empty ones, a new id at login.
 */
export function start(): RunningVariant {
  return startExpressSession(new session.MemoryStore())
}

/** The same app over another express-session store (connect-redis, connect-pg-simple); `onClose` releases it. */
export function startExpressSession(store: session.Store, onClose?: () => Promise<void>): RunningVariant {
  const app = express()
  app.disable('x-powered-by')
  app.disable('etag')
  app.use(
    session({
      secret: BENCH_SECRET,
      resave: false,
      saveUninitialized: false,
      store,
      cookie: { httpOnly: true, secure: false, sameSite: 'lax' },
    }),
  )
  app.use(express.json())
  app.post('/login', (req, res, next) => {
    const body: unknown = req.body
    if (!isLoginBody(body)) return void res.status(400).json({ error: 'bad login' })
    req.session.regenerate((error) => {
      if (error) return next(error)
      req.session.user = newProfile(body.username)
      res.json({ userId: body.username })
    })
  })
  app.get('/profile', (req, res) => {
    const user = req.session.user
    if (user === undefined) return void res.status(401).json({ error: 'unauthorized' })
    res.json(user)
  })
  app.put('/preferences', (req, res) => {
    const user = req.session.user
    if (user === undefined) return void res.status(401).json({ error: 'unauthorized' })
    const body: unknown = req.body
    if (!isPreferences(body)) return void res.status(400).json({ error: 'bad preferences' })
    user.preferences = { theme: body.theme, fontSize: body.fontSize }
    res.json(user.preferences)
  })
  app.get('/public', (_req, res) => {
    res.json(PUBLIC_BODY)
  })
  const server = createServer(app)
  return {
    listen: (host) => listenOn(server, host),
    async close() {
      await closeServer(server)
      await onClose?.()
    },
  }
}
