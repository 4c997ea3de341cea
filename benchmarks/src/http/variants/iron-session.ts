import { createServer } from 'node:http'
import { getIronSession, type SessionOptions } from 'iron-session'
import { BENCH_SECRET, isLoginBody, isPreferences, newProfile, PUBLIC_BODY, type Profile } from '../app.js'
import { closeServer, listenOn, readJSON, sendJSON } from '../node-body.js'
import type { RunningVariant } from '../variant.js'

interface IronData {
  user?: Profile
}

/** iron-session 8 on node:http: the whole session sealed (encrypted and signed) in the cookie. */
export function start(): RunningVariant {
  const options: SessionOptions = {
    password: BENCH_SECRET,
    cookieName: 'iron-bench',
    cookieOptions: { httpOnly: true, secure: false, sameSite: 'lax' },
  }
  const server = createServer((req, res) => {
    const url = req.url ?? '/'
    const route = `${req.method ?? 'GET'} ${url}`
    if (route === 'GET /public') return sendJSON(res, 200, PUBLIC_BODY)
    const handle = async (): Promise<void> => {
      if (route === 'POST /login') {
        const body = await readJSON(req)
        if (!isLoginBody(body)) return sendJSON(res, 400, { error: 'bad login' })
        const session = await getIronSession<IronData>(req, res, options)
        session.user = newProfile(body.username)
        await session.save()
        return sendJSON(res, 200, { userId: body.username })
      }
      if (route === 'GET /profile') {
        const session = await getIronSession<IronData>(req, res, options)
        if (session.user === undefined) return sendJSON(res, 401, { error: 'unauthorized' })
        return sendJSON(res, 200, session.user)
      }
      if (route === 'PUT /preferences') {
        const session = await getIronSession<IronData>(req, res, options)
        if (session.user === undefined) return sendJSON(res, 401, { error: 'unauthorized' })
        const body = await readJSON(req)
        if (!isPreferences(body)) return sendJSON(res, 400, { error: 'bad preferences' })
        session.user = { ...session.user, preferences: { theme: body.theme, fontSize: body.fontSize } }
        await session.save()
        return sendJSON(res, 200, session.user.preferences)
      }
      sendJSON(res, 404, { error: 'not found' })
    }
    handle().catch(() => {
      if (!res.headersSent) sendJSON(res, 500, { error: 'internal' })
      else res.end()
    })
  })
  return { listen: (host) => listenOn(server, host), close: () => closeServer(server) }
}
