import type { CLISessionRole } from './cli-command.js'
import type { OAuthCredential } from './credential-store.js'
import type { SessionContext } from './session-context.js'

/**
 * What a command did to the login, whichever way it ran: a local call's commit, the token in a
 * remote login's result, a logout. How a login happened is kept apart from what is then kept, so
 * every way of logging in leads to the same rules for the saved login.
 */
export type LoginChange =
  /** Nothing to save or remove. */
  | { readonly kind: 'unchanged' }
  /** A new session: keep its token, bound to this call's origin. `server` is set in remote mode. */
  | { readonly kind: 'logged-in'; readonly token: string; readonly server?: string; readonly oauth?: OAuthCredential; readonly user?: string; readonly userId?: string }
  /** A login by the user the session already belonged to (local mode): the session continues. */
  | { readonly kind: 'login-continued' }
  /** The session ended by the command; in remote mode, on `server`. */
  | { readonly kind: 'logged-out'; readonly server?: string }
  /** The session was revoked elsewhere while the command ran. */
  | { readonly kind: 'revoked' }

/** A call that completed, local or remote. */
export interface CallOutcome {
  readonly result: unknown
  readonly change: LoginChange
  /** A token was offered but no live session matched it, so the call ran without a session. */
  readonly staleToken: boolean
}

/** Prints a line for people (stderr, unless `--json`). */
export type Note = (line: string) => void

/**
 * Brings the saved login in line with what a call did (save a new token, remove an ended one) and
 * says so. Runs after the call and before its result is printed.
 */
export async function applyCallOutcome(context: SessionContext, role: CLISessionRole | undefined, outcome: CallOutcome, note: Note): Promise<void> {
  const { change } = outcome
  if (outcome.staleToken && role === undefined && change.kind !== 'logged-in') {
    note(`Note: your saved session has expired or was revoked, so this ran without it. ${context.reloginHint}`)
  }
  switch (change.kind) {
    case 'logged-in':
      await context.saveLogin(change.token, change.oauth, change.user, change.userId)
      note(`Logged in${change.server === undefined ? '' : ` to ${change.server}`}. The session is saved in ${context.location}.`)
      return
    case 'login-continued':
      note('You were already logged in as this user; the session continues.')
      return
    case 'logged-out':
      await context.clearLogin()
      note(change.server === undefined ? 'Logged out.' : `Logged out; the session was ended on ${change.server}.`)
      return
    case 'revoked':
      await context.clearLogin()
      note('The session was revoked while the command ran; you are logged out.')
      return
    case 'unchanged':
      return
  }
}

/**
 * `logout` with no token to end a session with: only make sure nothing is left behind (a damaged
 * file is removed).
 */
export async function logoutWithoutSession(context: SessionContext, damaged: boolean, note: Note): Promise<void> {
  const removed = await context.clearLogin()
  note(damaged && removed ? `Removed the unusable credentials file ${context.location}.` : 'You were not logged in.')
}

/** `logout` answered "unauthorized": the session had already ended, so only the saved login is left to remove. */
export async function logoutOfEndedSession(context: SessionContext, note: Note): Promise<void> {
  await context.clearLogin()
  note('Your session had already ended; the saved credential was removed.')
}
