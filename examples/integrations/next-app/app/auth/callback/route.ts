import { exchangeCode } from '../../../../src/identity-provider'
import { getSession } from '../../../lib/session'

export async function GET(request: Request): Promise<Response> {
  const url = new URL(request.url)
  const user = await exchangeCode(url.searchParams.get('code') ?? undefined)
  if (user === undefined) return Response.json({ error: 'login failed' }, { status: 401 })
  // Stored, and its cookie set through cookies(), before the redirect is returned.
  await (await getSession(request)).set(user, { login: true })
  return Response.redirect(new URL('/whoami', url), 303)
}
