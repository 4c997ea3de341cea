import { getSession } from '../../../lib/session'

export async function POST(request: Request): Promise<Response> {
  await (await getSession(request)).clear()
  return Response.json({ loggedOut: true })
}
