// The host routes of a fetch-API server (Bun, Deno, a worker), beside the Pikku routes.
import { createRequestSessions, incomingFromRequest, toFetchHandler, withHeaders, type RequestSession } from '@pikku/http'
import { exchangeCode } from './identity-provider.js'
import { handler, httpSessions } from './pikku.js'

const pikku = toFetchHandler(handler)
const requestSessions = createRequestSessions({ sessions: httpSessions })

/** Serves the Pikku routes, and the app's own routes with the same session. */
export async function serveRequest(request: Request): Promise<Response> {
  const url = new URL(request.url)
  if (handler.has(request.method, url.pathname)) return pikku(request)
  const session = requestSessions.open(incomingFromRequest(request))
  const response = await hostRoute(request, url, session)
  // Stored before the response leaves; the cookie goes with it.
  return withHeaders(response, await session.commit())
}

async function hostRoute(request: Request, url: URL, session: RequestSession): Promise<Response> {
  switch (`${request.method} ${url.pathname}`) {
    case 'GET /whoami':
      return Response.json({ user: (await session.get())?.email ?? null })
    case 'GET /auth/callback': {
      const user = await exchangeCode(url.searchParams.get('code') ?? undefined)
      if (user === undefined) return Response.json({ error: 'login failed' }, { status: 401 })
      await session.set(user, { login: true })
      return Response.redirect(new URL('/whoami', url), 303)
    }
    case 'POST /auth/logout':
      await session.clear()
      return Response.json({ loggedOut: true })
    case 'GET /status':
      return Response.json({ status: 'ok' })
    case 'GET /about':
      return new Response('A fetch-API app with Pikku routes')
    default:
      return new Response('Not found', { status: 404 })
  }
}
