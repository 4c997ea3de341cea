import { incomingFromRequest, type IncomingHTTP } from '@pikku/http'

/**
 * The request's own origin as the browser addressed it. Next.js rewrites the host of
 * `request.url` (to `localhost` for a server bound to 127.0.0.1) and passes the browser's in
 * `Host`, and behind its own proxying in `X-Forwarded-Host` / `X-Forwarded-Proto`, which its
 * Server Action origin check reads too.
 */
function ownOrigin(header: (name: string) => string | undefined, fallbackProtocol: string): { origin: string | undefined; secure: boolean } {
  const host = header('x-forwarded-host') ?? header('host')
  const forwarded = header('x-forwarded-proto')
  const proto = forwarded === 'https' || forwarded === 'http' ? forwarded : fallbackProtocol
  return { origin: host === undefined ? undefined : `${proto}://${host.toLowerCase()}`, secure: proto === 'https' }
}

/** A route handler's `Request`, routed at `path`. */
export function incomingFromNextRequest(request: Request, path?: string, clientAddress?: string): IncomingHTTP {
  const incoming = incomingFromRequest(request, { ...(path === undefined ? {} : { path }), clientAddress })
  const { origin, secure } = ownOrigin(incoming.header, new URL(request.url).protocol === 'https:' ? 'https' : 'http')
  return { ...incoming, secure, origin: () => origin }
}

/** The request as `headers()` shows it, for server components and server actions. */
export function incomingFromHeaders(list: Headers): IncomingHTTP {
  const header = (name: string): string | undefined => list.get(name) ?? undefined
  const { origin, secure } = ownOrigin(header, 'http')
  return {
    // A server action is a POST; a server component renders for a GET.
    method: list.get('next-action') === null ? 'GET' : 'POST',
    path: '/',
    query: '',
    secure,
    header,
    origin: () => origin,
    readBody: () => Promise.reject(new Error('A session does not read the request body')),
  }
}
