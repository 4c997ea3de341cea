import type { Clock } from '@pikku/core'
import { CLIFailure } from './cli-failure.js'
import type { CLISessionRole } from './cli-command.js'
import { type CredentialLoadResult, type CredentialProblem, type CredentialStore, CredentialStoreError, type OAuthCredential, type StoredCredential } from './credential-store.js'
import { isStorableToken } from './credential-format.js'

/** Where the token of a call came from. */
export type TokenSource = 'env' | 'file'

export interface SessionContextOptions {
  readonly app: string
  readonly store: CredentialStore
  readonly profile: string
  /** The origin calls go to: a normalised server URL, or the local origin. */
  readonly origin: string
  readonly remote: boolean
  /** Name and value of the `<APP>_TOKEN` override. */
  readonly envTokenName: string
  readonly envToken: string | undefined
  /**
   * Name and normalised value of `<APP>_SERVER`: the only server `<APP>_TOKEN` is sent to
   * (undefined when the variable is unset or is not a server URL).
   */
  readonly envServerName: string
  readonly envServer: string | undefined
  /** Flags to repeat in hints (`--profile work --server …`). */
  readonly hintFlags: string
  readonly clock: Clock
  /** Informational lines for people (stderr). */
  readonly note: (line: string) => void
  /**
   * Renews an OAuth login whose access token has expired (remote mode): the refresh token grant
   * against the server's authorization server. Throws UNAUTHORIZED when the server refuses.
   */
  readonly renew?: (credential: StoredCredential & { oauth: OAuthCredential }) => Promise<StoredCredential>
}

/** An access token this close to its expiry is renewed first, so it does not expire on the way. */
const RENEW_MARGIN_MS = 30_000

/** The credential a call uses, and what is known about it. */
export interface CallCredential {
  readonly token: string | undefined
  readonly source: TokenSource | undefined
  /** Set when a saved credential exists but was not used; says why (for the unauthorized hint). */
  readonly notice: string | undefined
}

/**
 * The login of one profile against one origin, for one command or for a whole interactive
 * session. The credential is read once; afterwards what this CLI did (login, logout) is kept in
 * memory and written through to the store, so an interactive session keeps its login even if the
 * file changes underneath it.
 */
export class SessionContext {
  readonly #options: SessionContextOptions
  #loaded = false
  #token: string | undefined
  /** The OAuth part of the saved login, when it came from a browser or device sign-in. */
  #oauth: OAuthCredential | undefined
  #source: TokenSource | undefined
  #invalid: (CredentialLoadResult & { kind: 'invalid' }) | undefined
  #mismatchOrigin: string | undefined
  /** `<APP>_TOKEN` is set but belongs to another server than this call's. */
  #envTokenElsewhere = false

  constructor(options: SessionContextOptions) {
    this.#options = options
  }

  get loginHint(): string {
    if (this.#envTokenElsewhere) {
      const { envServerName, envTokenName, origin, app, hintFlags } = this.#options
      return `Set ${envServerName}=${origin} (instead of --server) to send ${envTokenName} there, or run \`${app} login${hintFlags}\` to sign in.`
    }
    return `Run \`${this.#options.app} login${this.#options.hintFlags}\` to sign in.`
  }

  get reloginHint(): string {
    return `Run \`${this.#options.app} login${this.#options.hintFlags}\` to sign in again.`
  }

  /** The store this login is kept in (browser and device logins also keep their client id there). */
  get store(): CredentialStore {
    return this.#options.store
  }

  get location(): string {
    return this.#options.store.describe(this.#options.profile)
  }

  get source(): TokenSource | undefined {
    return this.#source
  }

  async #load(): Promise<void> {
    if (this.#loaded) return
    this.#loaded = true
    const { envToken, envTokenName } = this.#options
    if (envToken !== undefined && envToken !== '') {
      if (!isStorableToken(envToken)) {
        throw new CLIFailure('BAD_REQUEST', `${envTokenName} is set but is not a token (it must be printable characters without spaces)`, {
          hint: `Unset ${envTokenName} or set it to the token itself.`,
        })
      }
      // An environment token is meant for the server CI configured (<APP>_SERVER): a --server
      // given elsewhere in a script, or a URL an attacker talked someone into, never receives it.
      // A saved login for this server (bound to its own origin) still works.
      if (this.#options.remote && this.#options.envServer !== this.#options.origin) {
        this.#envTokenElsewhere = true
      } else {
        this.#token = envToken
        this.#source = 'env'
        return
      }
    }
    const result = await this.#options.store.load(this.#options.profile)
    if (result.kind === 'none') return
    if (result.kind === 'invalid') {
      this.#invalid = result
      return
    }
    if (result.credential.origin !== this.#options.origin) {
      this.#mismatchOrigin = result.credential.origin
      return
    }
    this.#token = result.credential.token
    this.#oauth = result.credential.oauth
    this.#source = 'file'
  }

  /**
   * An OAuth access token about to expire is renewed before use, under the store's lock: the
   * first command renews, and the others, finding a fresh token in the store once they hold the
   * lock, use it instead of renewing again with a refresh token that has been rotated away.
   */
  async #renewIfExpired(): Promise<void> {
    const { renew, store, profile, origin, clock } = this.#options
    const current = this.#oauth
    if (renew === undefined || current === undefined || this.#source !== 'file' || current.expiresAt - RENEW_MARGIN_MS > clock()) return
    const renewOnce = async (): Promise<StoredCredential> => {
      const latest = await store.load(profile)
      if (latest.kind === 'ok' && latest.credential.origin === origin && latest.credential.oauth !== undefined) {
        if (latest.credential.oauth.expiresAt - RENEW_MARGIN_MS > clock()) return latest.credential
        const renewed = await renew({ ...latest.credential, oauth: latest.credential.oauth })
        // A renewal's ID token names the user again; without one, who logged in is kept.
        const { user, userId } = latest.credential
        const kept: StoredCredential = { ...(user === undefined ? {} : { user }), ...(userId === undefined ? {} : { userId }), ...renewed }
        await store.save(profile, kept)
        return kept
      }
      // Logged out (or replaced) by another command meanwhile: renew what this one holds, once.
      const renewed = await renew({ origin, token: this.#token as string, savedAt: clock(), oauth: current })
      await store.save(profile, renewed)
      return renewed
    }
    const renewed = await this.#write(() => (store.withLock === undefined ? renewOnce() : store.withLock(profile, renewOnce)))
    this.#token = renewed.token
    this.#oauth = renewed.oauth
  }

  /** The OAuth part of the login in use (undefined for a password login or `<APP>_TOKEN`). */
  get oauth(): OAuthCredential | undefined {
    return this.#source === 'file' ? this.#oauth : undefined
  }

  /**
   * The credential for a call of a command with this role. A damaged or unsafe credentials file
   * fails the call with a message saying what to do, except for `login` (which replaces it) and
   * `logout` (which removes it, see `logoutPlan`).
   */
  async credentialFor(role: CLISessionRole | undefined): Promise<CallCredential> {
    await this.#load()
    // A directory someone else controls is refused whatever the command: a login would leave its
    // new token where they can read or replace it.
    if (this.#invalid !== undefined && (role === undefined || isDirectoryProblem(this.#invalid.problem))) throw this.invalidFailure()
    if (this.#token !== undefined && role !== 'login') await this.#renewIfExpired()
    if (this.#token !== undefined) return { token: this.#token, source: this.#source, notice: undefined }
    if (this.#envTokenElsewhere) return { token: undefined, source: undefined, notice: this.envTokenNotice() }
    if (this.#mismatchOrigin !== undefined) return { token: undefined, source: undefined, notice: this.mismatchNotice() }
    return { token: undefined, source: undefined, notice: undefined }
  }

  /** What the saved login looks like, for the shell's greeting; never throws for bad content. */
  async inspect(): Promise<{ kind: 'none' } | { kind: 'ok'; source: TokenSource } | { kind: 'mismatch'; notice: string } | { kind: 'invalid'; failure: CLIFailure }> {
    await this.#load()
    if (this.#invalid !== undefined) return { kind: 'invalid', failure: this.invalidFailure() }
    if (this.#token !== undefined && this.#source !== undefined) return { kind: 'ok', source: this.#source }
    if (this.#envTokenElsewhere) return { kind: 'mismatch', notice: this.envTokenNotice() }
    if (this.#mismatchOrigin !== undefined) return { kind: 'mismatch', notice: this.mismatchNotice() }
    return { kind: 'none' }
  }

  /**
   * What `logout` should do with the saved credential: revoke with a token (possibly one from a
   * file with unsafe permissions, so a leaked session stops working), or just delete a file that
   * holds nothing usable.
   */
  async logoutPlan(): Promise<{ token: string | undefined; source: TokenSource | undefined; damaged: boolean; oauth?: OAuthCredential }> {
    await this.#load()
    if (this.#invalid !== undefined && isDirectoryProblem(this.#invalid.problem)) throw this.invalidFailure()
    if (this.#mismatchOrigin !== undefined) {
      throw new CLIFailure('BAD_REQUEST', this.mismatchNotice(), {
        hint: this.#mismatchOrigin.startsWith('http')
          ? `Run \`${this.#options.app} logout --server ${this.#mismatchOrigin}${this.#profileFlag()}\` to end that session.`
          : `Run \`${this.#options.app} logout${this.#profileFlag()}\` without --server to end that session.`,
      })
    }
    if (this.#invalid !== undefined) {
      const leaked = this.#invalid.credential
      if (leaked !== undefined && leaked.origin === this.#options.origin) {
        return { token: leaked.token, source: 'file', damaged: true, ...(leaked.oauth === undefined ? {} : { oauth: leaked.oauth }) }
      }
      return { token: undefined, source: 'file', damaged: true }
    }
    const oauth = this.oauth
    return { token: this.#token, source: this.#source, damaged: false, ...(oauth === undefined ? {} : { oauth }) }
  }

  /** Keeps a new login: in memory and in the store. */
  async saveLogin(token: string, oauth?: OAuthCredential, user?: string, userId?: string): Promise<void> {
    const { store, profile, origin, clock, envToken, envTokenName } = this.#options
    const envTokenHere = envToken !== undefined && envToken !== '' && !this.#envTokenElsewhere
    this.#loaded = true
    this.#token = token
    this.#oauth = oauth
    this.#source = 'file'
    this.#invalid = undefined
    this.#mismatchOrigin = undefined
    await this.#write(() => store.save(profile, { origin, token, savedAt: clock(), ...(oauth === undefined ? {} : { oauth }), ...(user === undefined ? {} : { user }), ...(userId === undefined ? {} : { userId }) }))
    if (envTokenHere) {
      this.#options.note(`Note: ${envTokenName} is set; one-shot commands keep using it instead of this login until it is unset.`)
    }
  }

  /** Forgets the login: in memory, and the saved file unless the token came from the environment. */
  async clearLogin(): Promise<boolean> {
    const source = this.#source
    this.#loaded = true
    this.#token = undefined
    this.#oauth = undefined
    this.#source = undefined
    if (source === 'env') {
      this.#options.note(`Note: the session from ${this.#options.envTokenName} was ended; unset the variable too.`)
      return false
    }
    this.#invalid = undefined
    return this.#write(() => this.#options.store.remove(this.#options.profile))
  }

  invalidFailure(): CLIFailure {
    const invalid = this.#invalid
    if (invalid === undefined) throw new Error('no invalid credential to report')
    const { app } = this.#options
    const login = `\`${app} login${this.#options.hintFlags}\``
    const logout = `\`${app} logout${this.#profileFlag()}\``
    switch (invalid.problem) {
      case 'permissions':
        return new CLIFailure('CREDENTIALS', `The credentials file ${invalid.location} is not private: ${invalid.detail}. It will not be used, because its session may have been read by someone else.`, {
          hint: `Run ${logout} to revoke that session and delete the file, then ${login}.`,
        })
      case 'directory-permissions':
        return new CLIFailure('CREDENTIALS', `The credentials for profile '${this.#options.profile}' will not be used: ${invalid.detail}.`, {
          hint: `Run \`chmod 700 ${invalid.location}\`, then try again.`,
        })
      case 'directory-owner':
        return new CLIFailure('CREDENTIALS', `The credentials for profile '${this.#options.profile}' will not be used or saved: ${invalid.detail}, who could read or replace them.`, {
          hint: `Move ${invalid.location} out of the way (or have its owner remove it), or set XDG_CONFIG_HOME to a directory of your own, then run ${login}.`,
        })
      case 'owner':
        return new CLIFailure('CREDENTIALS', `The credentials file ${invalid.location} will not be used: ${invalid.detail}.`, {
          hint: `Delete it and run ${login}.`,
        })
      case 'unknown-version':
        return new CLIFailure('CREDENTIALS', `The credentials file ${invalid.location} has ${invalid.detail}; it was probably written by a newer ${app}.`, {
          hint: `Upgrade ${app}, or run ${login} to replace the file.`,
        })
      case 'unreadable':
        return new CLIFailure('CREDENTIALS', `The credentials file ${invalid.location} cannot be used: ${invalid.detail}.`, {
          hint: `Check its permissions, or run ${login} to replace it.`,
        })
      default:
        return new CLIFailure('CREDENTIALS', `The credentials file ${invalid.location} is damaged: ${invalid.detail}.`, {
          hint: `Run ${login} to replace it (or ${logout} to delete it).`,
        })
    }
  }

  /** Why `<APP>_TOKEN` was not sent to this call's server. */
  envTokenNotice(): string {
    const { envTokenName, envServerName, envServer, origin } = this.#options
    const where = envServer === undefined ? `the server named by ${envServerName}, which is not set` : `${envServer} (${envServerName})`
    return `${envTokenName} is sent only to ${where}; it is never sent to ${origin}`
  }

  mismatchNotice(): string {
    const saved = this.#mismatchOrigin ?? ''
    const savedText = saved.startsWith('http') ? `was issued by ${saved}` : 'was made in local mode'
    const target = this.#options.remote ? `it is never sent to ${this.#options.origin}` : 'it is not used in local mode'
    return `the saved login of profile '${this.#options.profile}' ${savedText}; ${target}`
  }

  #profileFlag(): string {
    return this.#options.profile === 'default' ? '' : ` --profile ${this.#options.profile}`
  }

  async #write<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation()
    } catch (error) {
      if (error instanceof CredentialStoreError) throw new CLIFailure('CREDENTIALS', error.message)
      throw error
    }
  }
}

function isDirectoryProblem(problem: CredentialProblem): boolean {
  return problem === 'directory-permissions' || problem === 'directory-owner'
}
