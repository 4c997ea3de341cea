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

/** The app's session type, from `Register['userSession']`, or `CoreUserSession`. */
export type UserSession = Register extends { userSession: infer S extends CoreUserSession }
  ? S
  : CoreUserSession

/** The app's services type, from `Register['services']`, or an empty object. */
export type Services = Register extends { services: infer T extends object } ? T : object

/** Milliseconds since the epoch; injected so that tests never sleep for an expiry. */
export type Clock = () => number

export const systemClock: Clock = () => Date.now()
