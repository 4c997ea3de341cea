/**
 * Internal to core (not exported by the package): the runner sets `state[LOGIN_SCOPE]` while the
 * function of an `auth: false` function runs, so that `SessionState.set()` knows a same-user value
 * there is a login (decision 017). A symbol, so no app or protocol code sets it by accident.
 */
export const LOGIN_SCOPE: unique symbol = Symbol('pikku.session.loginScope')
