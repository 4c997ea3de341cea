import { wireHTTP, type HTTPRoute } from '@pikku/http'
import type { DemoFunctions } from './app.js'
import { sessionRoutes } from './session-routes.js'

/** The demo's REST interface. The same functions are also served at POST /rpc/<name>. */
export function demoRoutes(functions: DemoFunctions): readonly HTTPRoute[] {
  return [
    wireHTTP({ method: 'POST', route: '/login', func: functions.login }),
    wireHTTP({ method: 'POST', route: '/logout', func: functions.logout }),
    wireHTTP({ method: 'GET', route: '/profile', func: functions.getProfile }),
    wireHTTP({ method: 'GET', route: '/public', func: functions.getPublicData }),
    wireHTTP({ method: 'PUT', route: '/preferences', func: functions.updatePreferences }),
    ...sessionRoutes(functions),
  ]
}
