import { wireHTTP, type HTTPRoute } from '@pikku/http'
import type { DemoFunctions } from './app.js'

/** "Where you're signed in" over REST: the user's own sessions, and an admin's revoke-all. */
export function sessionRoutes(functions: DemoFunctions): readonly HTTPRoute[] {
  return [
    wireHTTP({ method: 'GET', route: '/sessions', func: functions.listSessions }),
    wireHTTP({ method: 'POST', route: '/sessions/revoke-others', func: functions.revokeOtherSessions }),
    wireHTTP({ method: 'DELETE', route: '/sessions/:handle', func: functions.revokeSession }),
    wireHTTP({ method: 'POST', route: '/admin/users/:userId/revoke-sessions', func: functions.revokeUserSessions }),
  ]
}
