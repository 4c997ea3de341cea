/**
 * Where a CLI keeps its session between invocations. The file store (`createFileCredentialStore`)
 * is the default; an OS keychain, a secrets manager or a test double implements the same
 * interface and is passed to `wireCLI({ credentials })`.
 */
export interface CredentialStore {
  /** Where credentials live, for messages (a path, a keychain service name). */
  describe(profile: string): string
  /**
   * The profile's credential. Never throws for bad content: a damaged or unsafe entry is reported
   * as `{ kind: 'invalid' }` so the CLI can say what to do instead of printing a stack trace.
   */
  load(profile: string): Promise<CredentialLoadResult>
  /** Replaces the profile's credential (atomically, for stores that can). */
  save(profile: string, credential: StoredCredential): Promise<void>
  /** Forgets the profile's credential; true when there was one. */
  remove(profile: string): Promise<boolean>
  /**
   * Runs `operation` while holding the profile's lock across processes, so that of several
   * commands finding an expired access token at once only one renews it (refresh tokens rotate:
   * a second renewal with the same refresh token would end the login). Stores without it renew
   * without a lock.
   */
  withLock?<T>(profile: string, operation: () => Promise<T>): Promise<T>
  /**
   * The client id this CLI registered as at `server` (RFC 7591), so that browser and device logins
   * reuse one registration per server instead of registering on every login. Not a secret.
   * Stores without it register on every login.
   */
  registeredClient?(server: string): Promise<string | undefined>
  /** Keeps the client id registered at `server` (replacing one the server no longer knows). */
  keepRegisteredClient?(server: string, clientId: string): Promise<void>
  /** The profiles (accounts) that have a saved login, for `<app> accounts`. */
  list?(): Promise<string[]>
  /** The account chosen with `<app> switch`, used when no `--account`/`--profile` is given. */
  active?(): string | undefined
  setActive?(profile: string): Promise<void>
}

/** One saved login. */
export interface StoredCredential {
  /**
   * Where the token was issued and the only place it is ever sent: a normalised server URL
   * (`http://127.0.0.1:3000`) for remote mode, or a local origin (`local`) for in-process mode.
   */
  readonly origin: string
  /** The session token (local mode) or bearer token (remote mode). */
  readonly token: string
  /** When it was saved (ms since the epoch). */
  readonly savedAt: number
  /**
   * For a login through the server's OAuth authorization server (`login --web`, `--device`):
   * what is needed to renew `token` (an access token) when it expires. Absent for a password
   * login, whose token is a session token that does not expire on its own.
   */
  readonly oauth?: OAuthCredential
  /**
   * Where the secrets (`token`, `oauth.refreshToken`) really are: `'keychain'` when the file holds
   * only this metadata and the OS keychain holds the secrets. Absent: in the file itself.
   */
  readonly storage?: 'keychain'
  /**
   * Who logged in, when the CLI could tell, for `accounts` and `whoami`: the login's email or
   * user name (a password login), or the name in the ID token (a browser or device login).
   */
  readonly user?: string
  /** The user's id at the server (the ID token's `sub`), when a browser or device login got one. */
  readonly userId?: string
}

/** The OAuth part of a saved login. */
export interface OAuthCredential {
  /** The client id the CLI registered as (RFC 7591). */
  readonly clientId: string
  /** The refresh token; rotated on every renewal. */
  readonly refreshToken: string
  /** When the access token expires (ms since the epoch). */
  readonly expiresAt: number
  /** The resource the tokens are for (RFC 8707). */
  readonly resource: string
}

/** Why a stored credential cannot be used. */
export type CredentialProblem =
  /** Zero bytes: a write that was cut short by something other than this CLI. */
  | 'empty'
  /** Bytes that are not JSON (or not UTF-8): corrupted or truncated. */
  | 'not-json'
  /** JSON, but not a credentials document (no version, missing or malformed fields). */
  | 'malformed'
  /** A format version this CLI does not read (written by a newer release). */
  | 'unknown-version'
  /** Readable or writable by group or others: the token may have leaked. */
  | 'permissions'
  /** The directory holding it is writable by group or others: the file could be swapped. */
  | 'directory-permissions'
  /** The directory holding it belongs to another user, who could swap the file. */
  | 'directory-owner'
  /** Owned by another user. */
  | 'owner'
  /** A symbolic link, a directory or a device instead of a regular file. */
  | 'not-a-file'
  /** Larger than any credentials file this CLI writes. */
  | 'too-large'
  /** The operating system refused to read it (EACCES, EIO…). */
  | 'unreadable'

export type CredentialLoadResult =
  | { readonly kind: 'none' }
  | { readonly kind: 'ok'; readonly credential: StoredCredential }
  | {
      readonly kind: 'invalid'
      readonly problem: CredentialProblem
      /** What exactly is wrong, in a few words (`unexpected end of JSON input`, `mode 0644`). */
      readonly detail: string
      /** Where it is (for the message). */
      readonly location: string
      /**
       * The credential, when it could still be read (loose permissions): `logout` uses it to
       * revoke the possibly leaked session before deleting the file. Never used for anything else.
       */
      readonly credential?: StoredCredential
    }

/** A credential store could not write or delete (disk full, read-only home…). */
export class CredentialStoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'CredentialStoreError'
  }
}
