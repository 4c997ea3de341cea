export { pikkuRoutes, type PikkuRoutesOptions } from './lib/pikku-routes.js'
export { pikkuSession, type PikkuSessionOptions } from './lib/pikku-session.js'
