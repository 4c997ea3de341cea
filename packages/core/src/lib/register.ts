/**
 * The fields every session has. `userId` is required because the store keeps a per-user index
 * ("log out everywhere", "list my sessions") and because a change of `userId` is what makes a
 * `set()` a login that must mint a new session id.
 */
export interface CoreUserSession {
  userId: string
}

/**
 * Augment this interface once to type every wrapper, middleware and permission in the app:
 *
 * ```ts
 * declare module '@pikku/core' {
 *   interface Register {
 *     userSession: UserSession
 *     services: Services
 *   }
 * }
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface Register {}

/**
 * The session type of an app that has not declared `Register`: a `CoreUserSession` under a name
 * that says what to do, so that `Property 'email' does not exist on type
 * 'UserSession_is_not_declared__add_declare_module_Register'` points at the fix.
 */
export interface UserSession_is_not_declared__add_declare_module_Register extends CoreUserSession {}

/**
 * The services type of an app that has not declared `Register`: no known services, under a name
 * that says what to do when a function destructures one (`{ database }`).
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface, @typescript-eslint/no-empty-object-type
export interface Services_are_not_declared__add_declare_module_Register {}

/**
 * The app's session type, from `Register['userSession']`; without a registration, a
 * `CoreUserSession` named after the missing declaration.
 */
export type UserSession = Register extends { userSession: infer S extends CoreUserSession }
  ? S
  : UserSession_is_not_declared__add_declare_module_Register

/**
 * The app's services type, from `Register['services']`; without a registration, an empty object
 * type named after the missing declaration.
 */
export type Services = Register extends { services: infer T extends object }
  ? T
  : Services_are_not_declared__add_declare_module_Register

/** Milliseconds since the epoch; injected so that tests never sleep for an expiry. */
export type Clock = () => number

export const systemClock: Clock = () => Date.now()
