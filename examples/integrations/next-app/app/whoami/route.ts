import { getSession } from '../../lib/session'

export async function GET(request: Request): Promise<Response> {
  const session = await (await getSession(request)).get()
  return Response.json({ user: session?.email ?? null })
}
