import { pikkuRouteHandlers } from '@pikku/next'
import { handler } from '../../../../src/pikku'

// POST /api/login, GET /api/profile, …: every Pikku route under /api.
export const { GET, POST, PUT, PATCH, DELETE } = pikkuRouteHandlers(handler, { basePath: '/api' })
