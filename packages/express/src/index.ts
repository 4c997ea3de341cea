export { pikkuRoutes } from './lib/pikku-routes.js'
export { pikkuSession, type PikkuSessionOptions } from './lib/pikku-session.js'
export { pikkuErrorHandler, type PikkuErrorHandlerOptions } from './lib/pikku-error-handler.js'
