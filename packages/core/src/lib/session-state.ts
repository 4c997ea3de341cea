import { NotFoundError, UnauthorizedError } from './errors.js'
import { jsonEqual, ownField } from './json-equal.js'
import { assertNoForbiddenKeys, copySessionData, copySessionInput, setField } from './session-data-copy.js'
import { LOGIN_SCOPE } from './session-login-scope.js'
import type { CoreUserSession, UserSession } from './register.js'
import type { SessionRecord } from './session-store.js'
import type { SessionHandle, SessionListEntry, SessionRevokeOptions } from './session-metadata.js'
import type { PikkuProtocol } from './wire.js'
import { generateSessionToken, hashSessionToken } from './session-token.js'

/**
 * The session as a function sees it (`wire.session`). The name is the one Pikku's documentation
 * uses for the user-session service.
 */
export interface UserSessionService<S extends CoreUserSession = UserSession> {
  /** The live session value: whatever the latest `set`/`update`/`clear` in this call left. */
  get(): Promise<S | undefined>
  /**
   * Starts or replaces the session. A login mints a new session id and token, and the client's
   * earlier session is destroyed when the call is persisted. A `set()` is a login when it starts a
   * session, changes `userId`, is made by the function of an `auth: false` function (a login
   * function; see `options.login`), or passes `{ login: true }`. Otherwise it changes the session
   * in place.
   */
  set(session: S, options?: SessionSetOptions): Promise<void>
  /**
   * Applies a shallow patch. Persisted against the latest stored version, so concurrent calls
   * that change different fields both survive.
   */
  update(patch: Partial<Omit<S, 'userId'>>): Promise<S>
  /** Ends the session; the stored session is deleted when the call is persisted. */
  clear(): Promise<void>
  /**
   * The live sessions of this session's user, on every protocol, most recently used first; the
   * session of this call has `current: true`. `UnauthorizedError` without a session.
   */
  list(): Promise<SessionListEntry[]>
  /**
   * Ends one of this user's sessions by its handle (from `list()`), on whatever protocol it lives.
   * A handle that is not one of this user's live sessions is a `NotFoundError`.
   */
  revoke(handle: SessionHandle): Promise<void>
  /** Ends every other session of this user ("sign out everywhere else"); resolves how many ended. */
  revokeOthers(): Promise<number>
}

/**
 * Listing and revoking a user's sessions: what the session manager offers and the session
 * service of a call uses (`session.list()`, `session.revoke(handle)`, `session.revokeOthers()`).
 */
export interface SessionInventory {
  /** The user's live sessions with their metadata and handle; `current` marks the storage id given. */
  list(userId: string, options?: { readonly current?: string }): Promise<SessionListEntry[]>
  /** Ends the user's session named by `handle`; false when it is not one of the user's live sessions. */
  revokeHandle(userId: string, handle: SessionHandle, options?: SessionRevokeOptions): Promise<boolean>
  /** Ends every session of `current.userId` but `current.id`; resolves how many ended. */
  revokeOthers(current: { readonly id: string; readonly userId: string }, options?: SessionRevokeOptions): Promise<number>
  /** "Log out everywhere" (optionally keeping the session stored under `except`); resolves how many ended. */
  revokeUser(userId: string, options?: SessionRevokeOptions & { readonly except?: string }): Promise<number>
}

/** How `session.set()` treats a value of the same user as the live session. */
export interface SessionSetOptions {
  /**
   * `true`: this is a login (the user authenticated in this call), so the session gets a new id
   * and token even when the user is the same, and the previous session ends. `false`: a same-user
   * value changes the session in place, even in an `auth: false` function. A new session or a
   * different `userId` is a login whatever this says.
   * @default true in the function of an `auth: false` function, false elsewhere (middleware, `auth: true` functions)
   */
  login?: boolean
}

/** The session service inside a function that requires a session (`auth: true`). */
export interface AuthedUserSessionService<S extends CoreUserSession = UserSession>
  extends UserSessionService<S> {
  get(): Promise<S>
}

/** Marks a key removed by a `set()` that dropped it. */
export const REMOVED_KEY: unique symbol = Symbol('pikku.session.removed')
export type SessionPatch = ReadonlyMap<string, unknown>

/** A session identity minted by a login in this call and not yet persisted. */
export interface PendingSession {
  /** The credential to hand to the client (cookie value). Never stored. */
  readonly token: string
  /** `hashSessionToken(token)`: the id it will be stored under. */
  readonly id: string
}

/**
 * One session for one call (or one connection, on long-lived protocols). It is the object a
 * function receives as `wire.session`; protocol middleware resumes it from a credential before
 * the call and reads what changed afterwards.
 *
 * It never talks to a store: persistence is the session manager's job (or a stateless strategy's).
 */
export class SessionState<S extends CoreUserSession = UserSession> implements UserSessionService<S> {
  /**
   * Set by the runner while the function of an `auth: false` function runs: a same-user `set()`
   * there is a login (decision 017). Kept across resume/reset: it belongs to the call, not the value.
   * Declared only (absent until the runner first sets it), so constructing a state costs nothing more.
   */
  declare [LOGIN_SCOPE]?: boolean
  /**
   * The protocol of the call using this state (`wire.protocol`), set by the runner when a call
   * starts: lifecycle events and telemetry name it as the protocol that acted. Declared only, like
   * the login scope.
   */
  declare callProtocol?: PikkuProtocol
  #baseline: SessionRecord<S> | undefined
  #transient = false
  #value: S | undefined
  /**
   * The value as it will be persisted (the loaded data plus what this call recorded), kept private
   * so that changes are found by comparing against it. Undefined while `#value` itself has never
   * left this object, which then serves as the comparison base without a copy.
   */
  #base: S | undefined
  #pending: PendingSession | undefined
  #dropBaseline = false
  #patch: Map<string, unknown> | undefined
  #changed = false
  #inventory: SessionInventory | undefined

  /**
   * Where `list()`, `revoke()` and `revokeOthers()` look: the session manager. The manager sets
   * itself on states it creates or commits; protocol middleware that builds its own state calls this.
   */
  useInventory(inventory: SessionInventory): void {
    this.#inventory = inventory
  }

  /** Adopts a stored session loaded from a credential. Not a change: nothing will be written. */
  resume(record: SessionRecord<S>): void {
    this.#baseline = record
    this.#transient = false
    this.#value = record.data
    this.#base = undefined
    this.#pending = undefined
    this.#dropBaseline = false
    this.#patch = undefined
    this.#changed = false
  }

  /**
   * Adopts a session that no store backs (an API key, a stateless token, a service account).
   * Changes made by the call stay visible in the call; persisting them is up to the strategy.
   */
  resumeTransient(session: S): void {
    this.#baseline = undefined
    this.#transient = true
    this.#value = session
    this.#base = undefined
    this.#pending = undefined
    this.#dropBaseline = false
    this.#patch = undefined
    this.#changed = false
  }

  /** Forgets everything: the state of a connection whose session was revoked elsewhere. */
  reset(): void {
    this.#baseline = undefined
    this.#transient = false
    this.#value = undefined
    this.#base = undefined
    this.#pending = undefined
    this.#dropBaseline = false
    this.#patch = undefined
    this.#changed = false
  }

  get(): Promise<S | undefined> {
    // The caller may mutate what it gets and hand it back to set(): keep a private copy to compare
    // against, taken once per value rather than on every get(). Transient sessions need it too:
    // stateless strategies re-issue their token only when `changed` says so.
    if (this.#value !== undefined && this.#base === undefined) {
      this.#base = this.#value
      this.#value = copySessionData(this.#value)
    }
    return Promise.resolve(this.#value)
  }

  async set(session: S, options?: SessionSetOptions): Promise<void> {
    assertSessionValue(session, 'session.set()')
    const login = options?.login
    if (login !== undefined && typeof login !== 'boolean') {
      throw new TypeError(`session.set() options.login must be true or false; got ${typeof login}`)
    }
    // Copied first, so a value that is not plain data, or that holds a field named __proto__,
    // constructor or prototype, is refused before anything changes.
    const copy = copySessionInput(session, 'session.set()')
    const current = this.#value
    // A login already minted in this call is the one being completed: no second new id.
    if (current === undefined || current.userId !== session.userId || ((login ?? this[LOGIN_SCOPE]) && this.#pending === undefined)) {
      this.#login(session, copy)
      return
    }
    // Compared with what will be persisted, not with the live object: the caller may have
    // mutated that object in place, and only the fields that really differ may be written, so
    // that a concurrent call's change to another field survives.
    const base = (this.#base ?? current) as Record<string, unknown>
    // While nothing has changed since the resume, the base is the stored data itself: a field that
    // differs from the base differs from what is stored, and needs no second comparison.
    const baseIsStored = base === this.#baseline?.data
    let changed = false
    for (const key of Object.keys(session)) {
      const next = (session as Record<string, unknown>)[key]
      if (!jsonEqual(next, ownField(base, key))) {
        this.#recordKey(key, next === undefined ? REMOVED_KEY : next, baseIsStored)
        changed = true
      }
    }
    for (const key of Object.keys(base)) {
      if (!Object.hasOwn(session, key) && base[key] !== undefined) {
        this.#recordKey(key, REMOVED_KEY, baseIsStored)
        changed = true
      }
    }
    if (changed) {
      this.#base = copy
      this.#value = session
      // A login already pending in this call, or a transient session: no patch, but a change.
      if (this.#pending !== undefined || this.#transient) this.#changed = true
    }
  }

  async update(patch: Partial<Omit<S, 'userId'>>): Promise<S> {
    const current = this.#value
    if (current === undefined) throw new UnauthorizedError('There is no session to update')
    if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
      throw new TypeError('session.update() takes a plain object of fields to change')
    }
    const userId = (patch as Record<string, unknown>)['userId']
    if (userId !== undefined && userId !== current.userId) {
      throw new TypeError('session.update() cannot change userId; call session.set() to log in as another user')
    }
    // Before anything changes: a refused patch leaves the session as it was.
    assertNoForbiddenKeys(patch, 'session.update()')
    const base = (this.#base ?? current) as Record<string, unknown>
    const baseIsStored = base === this.#baseline?.data
    let next: Record<string, unknown> | undefined
    let nextBase: Record<string, unknown> | undefined
    for (const key of Object.keys(patch)) {
      if (key === 'userId') continue
      const value = (patch as Record<string, unknown>)[key]
      const equalsBase = jsonEqual(value, ownField(base, key))
      if (equalsBase && jsonEqual(value, ownField(current as Record<string, unknown>, key))) continue
      // The new live value is handed to the caller (its nested values are made its own below).
      next ??= { ...current } as Record<string, unknown>
      // The base's nested values are private (never handed out, never changed in place), so a
      // shallow copy is enough to change its top-level fields.
      nextBase ??= { ...base }
      if (value === undefined) {
        delete next[key]
        delete nextBase[key]
      } else {
        setField(next, key, value)
        setField(nextBase, key, copySessionData(value))
      }
      if (!equalsBase) {
        this.#recordKey(key, value === undefined ? REMOVED_KEY : value, baseIsStored)
        if (this.#pending !== undefined || this.#transient) this.#changed = true
      }
    }
    if (next !== undefined) {
      if (this.#base === undefined) {
        // The current value never left this object: it is the comparison base (and may be a
        // store's frozen value), so the caller gets its own copy of every nested value the patch
        // did not replace. Otherwise the caller already owns them.
        const shared = current as Record<string, unknown>
        for (const key of Object.keys(next)) {
          const field = next[key]
          if (typeof field === 'object' && field !== null && field === shared[key]) setField(next, key, copySessionData(field))
        }
      }
      this.#value = next as S
      this.#base = nextBase as S
    }
    return this.#value as S
  }

  async clear(): Promise<void> {
    if (this.#value === undefined && this.#pending === undefined) return
    this.#value = undefined
    this.#base = undefined
    this.#pending = undefined
    this.#patch = undefined
    if (this.#baseline !== undefined) this.#dropBaseline = true
    this.#changed = true
  }

  async list(): Promise<SessionListEntry[]> {
    const { inventory, userId } = this.#forInventory('session.list()')
    return inventory.list(userId, this.#currentId())
  }

  async revoke(handle: SessionHandle): Promise<void> {
    const { inventory, userId } = this.#forInventory('session.revoke()')
    // Only the user's own sessions are found: someone else's handle is as unknown as a made-up one.
    const ended = typeof handle === 'string' && (await inventory.revokeHandle(userId, handle, { by: userId, reason: 'user', protocol: this.callProtocol }))
    if (!ended) throw new NotFoundError('No live session of yours has this handle')
  }

  async revokeOthers(): Promise<number> {
    const { inventory, userId } = this.#forInventory('session.revokeOthers()')
    const current = this.sessionId
    // A session no store backs (an API key) is not among the stored ones: all of them are "others".
    if (current === undefined) return inventory.revokeUser(userId, { by: userId, reason: 'user', protocol: this.callProtocol })
    return inventory.revokeOthers({ id: current, userId }, { by: userId, reason: 'user', protocol: this.callProtocol })
  }

  #forInventory(where: string): { inventory: SessionInventory; userId: string } {
    const userId = this.#value?.userId
    if (userId === undefined) throw new UnauthorizedError('There is no session')
    if (this.#inventory === undefined) {
      throw new Error(`${where} needs the session manager: this session was not loaded through one (stateless sessions cannot be listed or revoked)`)
    }
    return { inventory: this.#inventory, userId }
  }

  #currentId(): { current: string } | undefined {
    const id = this.sessionId
    return id === undefined ? undefined : { current: id }
  }

  /**
   * The live value, synchronously (for runners and protocol code). Read it, do not change it:
   * a value to change comes from `get()`, and changes are made with `set()` or `update()`.
   */
  get current(): S | undefined {
    return this.#value
  }

  /** The stored session this state was resumed from, if any. */
  get baseline(): SessionRecord<S> | undefined {
    return this.#baseline
  }

  /** True when resumed with `resumeTransient` (no store backs the session). */
  get transient(): boolean {
    return this.#transient
  }

  /** A session minted by a login in this call, to be stored under `pending.id`. */
  get pending(): PendingSession | undefined {
    return this.#pending
  }

  /** True when the baseline session must be deleted (logout, or a login replacing it). */
  get dropsBaseline(): boolean {
    return this.#dropBaseline
  }

  /** Fields changed on the baseline session by `set`/`update` of the same user. */
  get patch(): SessionPatch | undefined {
    return this.#patch
  }

  /**
   * True when the call changed the session since the last resume (a login, a logout, or fields
   * that now differ from the stored ones). A change undone in the same call is no change.
   */
  get changed(): boolean {
    return this.#changed
  }

  /**
   * The id the session is (or will be) stored under: the pending id after a login, else the
   * baseline's, else undefined. Tokens that reference the server-side session (JWTs) use it.
   */
  get sessionId(): string | undefined {
    if (this.#pending !== undefined) return this.#pending.id
    if (this.#dropBaseline || this.#value === undefined) return undefined
    return this.#baseline?.id
  }

  #login(session: S, copy: S): void {
    if (this.#baseline !== undefined) this.#dropBaseline = true
    const token = generateSessionToken()
    this.#pending = { token, id: hashSessionToken(token) }
    this.#patch = undefined
    this.#value = session
    this.#base = copy
    this.#changed = true
  }

  /** `differsFromStored`: the caller already found `value` unequal to the stored field. */
  #recordKey(key: string, value: unknown, differsFromStored: boolean): void {
    // After a login in this call the whole value is written at creation; no patch is needed.
    if (this.#pending !== undefined || this.#transient) return
    if (!differsFromStored && this.#equalsStored(key, value)) {
      // Changed back to what is stored: nothing to write for this field.
      this.#patch?.delete(key)
      if (this.#patch?.size === 0 && !this.#dropBaseline) {
        this.#patch = undefined
        this.#changed = false
      }
      return
    }
    this.#patch ??= new Map()
    this.#patch.set(key, value)
    this.#changed = true
  }

  #equalsStored(key: string, value: unknown): boolean {
    const stored = this.#baseline?.data as Record<string, unknown> | undefined
    const storedValue = stored !== undefined && Object.hasOwn(stored, key) ? stored[key] : undefined
    return value === REMOVED_KEY ? storedValue === undefined : jsonEqual(value, storedValue)
  }
}

/** Applies a recorded patch to (a copy of) stored data. */
export function applySessionPatch<S extends CoreUserSession>(data: S, patch: SessionPatch): S {
  const next = { ...data } as Record<string, unknown>
  for (const [key, value] of patch) {
    if (value === REMOVED_KEY) delete next[key]
    else setField(next, key, value)
  }
  return next as S
}

/**
 * A deep copy of session data. Plain objects, arrays and Dates (the shapes sessions hold) are
 * copied directly, which is several times faster than `structuredClone` on the small objects of
 * every request; anything else falls back to `structuredClone`.
 */
function assertSessionValue(value: unknown, where: string): asserts value is CoreUserSession {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`${where} takes a session object; got ${value === null ? 'null' : typeof value}`)
  }
  const userId = (value as Record<string, unknown>)['userId']
  if (typeof userId !== 'string' || userId.length === 0) {
    throw new TypeError(`${where} needs a non-empty string userId in the session object`)
  }
}
