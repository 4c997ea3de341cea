// A Next.js route beside the catch-all: more specific, so it keeps its path.
export function GET(): Response {
  return Response.json({ status: 'ok' })
}
