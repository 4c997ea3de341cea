export { pikkuRoutes, type PikkuRoutesOptions } from './lib/pikku-routes.js'
export { pikkuSession, type PikkuSessionOptions, type PikkuSessionEnv } from './lib/pikku-session.js'
