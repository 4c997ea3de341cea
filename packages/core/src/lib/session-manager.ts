import { ConflictError, PayloadTooLargeError, PikkuError, ServiceUnavailableError, STORE_UNAVAILABLE_MESSAGE } from './errors.js'
import type { Logger } from './logger.js'
import { silentLogger } from './logger.js'
import { type Clock, type CoreUserSession, systemClock, type UserSession } from './register.js'
import type { PikkuProtocol } from './wire.js'
import type { CredentialKind } from './authenticator.js'
import { applySessionPatch, SessionState } from './session-state.js'
import type { SessionEventListener, SessionRecord, SessionStore, SessionUpdateResult } from './session-store.js'
import {
  createSessionLifecycleEmitter,
  eventClient,
  refusedEvent,
  type SessionLifecycleListener,
  type SessionRefusal,
} from './session-lifecycle.js'
import { sessionHandle, type SessionHandle, type SessionListEntry, type SessionMetadata, type SessionRevokeOptions } from './session-metadata.js'
import type { SessionInventory } from './session-state.js'
import { sessionBytesOver } from './session-size.js'
import { hashSessionToken, isSessionTokenShape } from './session-token.js'
import { resolveSessionLifetime, type SessionLifetime, type SessionLifetimeOptions } from './session-lifetime.js'
import { syncTwinOf, withSyncTwin } from './sync-twin.js'

// Shared: the answer of most commits (a read-only call), allocated once.
const UNCHANGED: SessionCommitResult = Object.freeze({ kind: 'unchanged' })

const REVOKED: SessionCommitResult = Object.freeze({ kind: 'revoked' })

/** One call's in-place change of a stored session, on its way to the store (see `commitInLane`). */
interface PendingChange<S extends CoreUserSession> {
  readonly state: SessionState<S>
  /** The record the call loaded. */
  readonly baseline: SessionRecord<S>
  readonly precondition: ((stored: Readonly<S>) => void) | undefined
  readonly credential: CredentialKind | undefined
  /** Whether its patch changes data (set when it is applied). */
  changesData?: boolean
  /** Set once its outcome is known: `result`, or `error` when `failed`. */
  settled: boolean
  failed?: boolean
  result?: SessionCommitResult
  error?: unknown
  /** For a change that queued behind a write in flight: its caller's promise. */
  resolve?: (result: SessionCommitResult) => void
  reject?: (error: unknown) => void
}

/** The changes to one session this process is writing (see `commitInLane`). */
interface WriteLane<S extends CoreUserSession> {
  /** Changes that arrived while a write was in flight: the next write takes them all. */
  queue: PendingChange<S>[]
  /** The record the lane's last successful write left. */
  written: SessionRecord<S> | undefined
}
// Below this no real session fits (an id, an email and a role are a few hundred bytes): a smaller
// maxSessionBytes is a typo that would refuse every login.
const MIN_SESSION_BYTES = 1024

/**
 * The session manager's options. `idleTimeout`, `absoluteTimeout` and `renewalInterval` are
 * `SessionLifetimeOptions` (defaults: 24 hours, 7 days, 5 minutes or a tenth of idleTimeout).
 */
export interface SessionManagerOptions<S extends CoreUserSession = UserSession> extends SessionLifetimeOptions {
  /** Where sessions live. */
  store: SessionStore<S>
  /**
   * How often a versioned `update` is retried against newer stored versions before giving up with
   * `ConflictError`.
   * @default 8
   */
  maxUpdateAttempts?: number
  /**
   * How many client tokens remember their storage id (SHA-256 hash), so a returning client's
   * token is not hashed again on every request; a token issued by a login here is remembered from
   * the start. The cache holds raw tokens in this process's
   * memory, as in-flight requests do; a cached token still finds nothing once its session is
   * gone. 0 turns it off.
   * @default 10_000
   */
  tokenCacheSize?: number
  /**
   * The largest session a write may store, in bytes of its JSON text (UTF-8). A login or change
   * that would store more fails with `PayloadTooLargeError` (413) and stores nothing, so a client
   * cannot make every later request of its session carry megabytes. Measured on writes only,
   * never on reads. `Infinity` turns the limit off.
   * @default 65_536 (64 KiB)
   */
  maxSessionBytes?: number
  /** @default Date.now */
  clock?: Clock
  /** @default silentLogger */
  logger?: Logger
  /**
   * Receives every session lifecycle event (`created`, `rotated`, `updated`, `renewed`, `cleared`,
   * `revoked`, `expired`, `refused`) after the call that caused it; more subscribers can be added
   * with `manager.onEvent`. A subscriber that throws or rejects is logged and never affects a call.
   * @default undefined (no subscriber: events are not even built)
   */
  onEvent?: SessionLifecycleListener
}

/** What a load knows about the call it is made for. */
export interface SessionLoadOptions {
  /**
   * The protocol of the call that loads (`wire.protocol`): the `expired` event of a session this
   * load finds past a timeout names it, and telemetry records it on the load.
   * @default undefined (not told)
   */
  readonly protocol?: PikkuProtocol
}

/** How `commit` writes one call's changes. */
export interface SessionCommitOptions<S extends CoreUserSession = UserSession> {
  /**
   * A rule the stored session must satisfy for an in-place change (`update`, a same-user `set`) to
   * be written. Called with the stored data before the compare-and-set write, and again with the
   * newer data each time a concurrent write makes the manager re-apply the change: throw (a
   * `PikkuError` such as `ForbiddenError`) to refuse the change, and `commit` rejects with that
   * error, having written nothing. For rules a concurrent writer could break between the load and
   * the write (an owner that may be set only once). Not called for logins, logouts or renewals.
   * @default undefined (no rule)
   */
  readonly precondition?: (stored: Readonly<S>) => void
  /**
   * Who the client is, stored with the session when this commit is a login (`sessionMetadata(…)`).
   * A re-login without it keeps the metadata of the session it replaces. Ignored for other commits.
   * @default undefined
   */
  readonly metadata?: SessionMetadata
  /**
   * The credential this call's client used, for a stored session whose recorded credential says
   * otherwise: the record's metadata takes it, written with the call's change or as one versioned
   * write of its own (so at most once per session). For a login that handed out two credentials (a
   * cookie and a bearer token) and learns from the first use which one the client keeps. Ignored
   * for logins, logouts, transient sessions and sessions stored without metadata.
   * @default undefined
   */
  readonly credential?: CredentialKind
}

/** What persisting a call's session did, for the protocol to reflect to its client. */
export type SessionCommitResult =
  /** Nothing changed and no renewal was due: no store write happened. */
  | { readonly kind: 'unchanged' }
  /** Nothing changed; the idle timer was renewed (one `touch`). */
  | { readonly kind: 'renewed'; readonly expiresAt: number }
  /** A login: a new session was stored; send `token` to the client. */
  | {
      readonly kind: 'created'
      readonly token: string
      readonly record: SessionRecord<CoreUserSession>
      /** When the absolute timeout ends it: a good cookie expiry. */
      readonly absoluteExpiresAt: number
    }
  /** The same session was changed in place. */
  | { readonly kind: 'updated'; readonly record: SessionRecord<CoreUserSession> }
  /** The session was cleared by the call and deleted from the store; drop the credential. */
  | { readonly kind: 'cleared' }
  /** The session was deleted elsewhere while the call ran; drop the credential. */
  | { readonly kind: 'revoked' }

export interface SessionManager<S extends CoreUserSession = UserSession> extends SessionInventory {
  readonly store: SessionStore<S>
  /** The lifetime rules this manager applies: protocol code asks these instead of re-deriving them. */
  readonly lifetime: SessionLifetime
  readonly idleTimeout: number
  readonly absoluteTimeout: number
  readonly renewalInterval: number
  readonly maxSessionBytes: number
  readonly clock: Clock
  /**
   * The live session for a client token, or undefined for a missing, malformed, unknown, expired
   * or revoked one. A store failure rejects with `ServiceUnavailableError`, never "no session".
   */
  loadByToken(token: string | undefined, options?: SessionLoadOptions): Promise<SessionRecord<S> | undefined>
  /** Same as `loadByToken` for a storage id (for example the `sid` of a signed token). */
  loadById(id: string, options?: SessionLoadOptions): Promise<SessionRecord<S> | undefined>
  /** A fresh session state, resumed from `record` when given. */
  createState(record?: SessionRecord<S>): SessionState<S>
  /**
   * Persists what the call did to `state` (login, in-place change, logout, or a due renewal) and
   * resumes `state` from the result, so a long-lived connection keeps using it.
   */
  commit(state: SessionState<S>, options?: SessionCommitOptions<S>): Promise<SessionCommitResult>
  /**
   * Whether `commit(state, options)` would do anything now. False for a call that changed nothing,
   * whose renewal is not due and whose `credential` is the recorded one, so protocol code can skip
   * the commit of a read-only call.
   */
  needsCommit(state: SessionState<S>, options?: Pick<SessionCommitOptions<S>, 'credential'>): boolean
  /** Ends one session by storage id (a `revoked` event records `by` and `reason`). */
  revoke(id: string, options?: SessionRevokeOptions): Promise<boolean>
  /** The user's live records, with their data (for server code; `list` is the public view). */
  listUserSessions(userId: string): Promise<SessionRecord<S>[]>
  /** The public handle of the session stored under `id`. */
  handleOf(id: string): SessionHandle
  /**
   * Records a credential that failed verification as a `refused` event. Called by authenticators
   * and protocol packages; costs nothing when no one subscribes.
   */
  refused(refusal: SessionRefusal): void
  /** Adds a lifecycle event subscriber (see the `onEvent` option); returns its removal. */
  onEvent(listener: SessionLifecycleListener): () => void
  /** Revocation events from the store. */
  subscribe(listener: SessionEventListener): () => void
}

export function createSessionManager<S extends CoreUserSession = UserSession>(
  options: SessionManagerOptions<S>,
): SessionManager<S> {
  const { store } = options
  if (store === undefined || typeof store.get !== 'function') {
    throw new TypeError('createSessionManager needs a store: pass { store: createMemoryStore() } or another SessionStore')
  }
  const lifetime = resolveSessionLifetime(options)
  const { idleTimeout, absoluteTimeout, renewalInterval } = lifetime
  const maxUpdateAttempts = options.maxUpdateAttempts ?? 8
  const tokenCacheSize = options.tokenCacheSize ?? 10_000
  const maxSessionBytes = options.maxSessionBytes ?? 64 * 1024
  const clock = options.clock ?? systemClock
  const logger = options.logger ?? silentLogger
  if (options.onEvent !== undefined && typeof options.onEvent !== 'function') {
    throw new TypeError(`onEvent must be a function called with each session event; got ${typeof options.onEvent}`)
  }
  const events = createSessionLifecycleEmitter(logger, options.onEvent)
  /**
   * Emits an event about the session in `record`, caused by a call on `protocol` (built only when
   * someone listens).
   */
  const emitAbout = (
    type: 'created' | 'updated' | 'renewed' | 'cleared' | 'expired',
    record: Pick<SessionRecord<S>, 'id' | 'userId' | 'metadata'>,
    protocol: PikkuProtocol | undefined,
  ): void => {
    if (!events.active) return
    events.emit({ type, handle: sessionHandle(record.id), userId: record.userId, ...eventClient(clock(), record.metadata, protocol) })
  }
  const emitRevoked = (record: SessionRecord<S>, revokeOptions: SessionRevokeOptions | undefined): void => {
    if (!events.active) return
    events.emit({
      type: 'revoked',
      handle: sessionHandle(record.id),
      userId: record.userId,
      by: revokeOptions?.by ?? 'system',
      reason: revokeOptions?.reason ?? 'revoked',
      ...eventClient(clock(), record.metadata, revokeOptions?.protocol),
    })
  }
  // Sessions the store's own sweep removed in this process (other servers' sweeps are theirs to
  // report): `expired`, from no call. Records of other namespaces (MCP, OAuth: ids with ':') are not
  // user sessions; their own manager hears them through its namespaced view.
  store.onSweep?.((swept) => {
    if (!events.active) return
    const at = clock()
    for (const session of swept) {
      if (session.id.includes(':')) continue
      events.emit({ type: 'expired', handle: sessionHandle(session.id), userId: session.userId, ...eventClient(at, session.metadata, undefined) })
    }
  })
  if (!Number.isFinite(maxUpdateAttempts) || maxUpdateAttempts <= 0) {
    throw new RangeError(`maxUpdateAttempts must be a positive number; got ${maxUpdateAttempts}`)
  }
  if (!(maxSessionBytes === Number.POSITIVE_INFINITY || (Number.isInteger(maxSessionBytes) && maxSessionBytes >= MIN_SESSION_BYTES))) {
    throw new RangeError(
      `maxSessionBytes must be a whole number of bytes, at least ${MIN_SESSION_BYTES}, or Infinity for no limit; got ${maxSessionBytes}`,
    )
  }
  if (!Number.isInteger(tokenCacheSize) || tokenCacheSize < 0) {
    throw new RangeError(`tokenCacheSize must be a whole number, 0 to turn the cache off; got ${tokenCacheSize}`)
  }
  // token -> storage id, oldest first. Only well-formed tokens get in, and at most tokenCacheSize
  // of them, so a flood of made-up tokens costs a hash each, as without the cache.
  const tokenIds = new Map<string, string>()
  const idForToken = (token: string): string | undefined => {
    const cached = tokenIds.get(token)
    if (cached !== undefined) return cached
    if (!isSessionTokenShape(token)) return undefined
    const id = hashSessionToken(token)
    rememberToken(token, id)
    return id
  }
  const rememberToken = (token: string, id: string): void => {
    if (tokenCacheSize === 0) return
    if (tokenIds.size >= tokenCacheSize) tokenIds.delete(tokenIds.keys().next().value as string)
    tokenIds.set(token, id)
  }
  const expiryFor = lifetime.expiresAt

  const unavailable = (operation: string, error: unknown): PikkuError => {
    if (error instanceof PikkuError) {
      // A store's own outage error may quote its driver (hosts, user names): callers get the fixed
      // message, and the store's error stays the cause, for the log.
      if (error.code !== 'SERVICE_UNAVAILABLE' || error.message === STORE_UNAVAILABLE_MESSAGE) return error
      return new ServiceUnavailableError(STORE_UNAVAILABLE_MESSAGE, { cause: error })
    }
    logger.error(`session store failed during ${operation}`, { error })
    return new ServiceUnavailableError(STORE_UNAVAILABLE_MESSAGE, { cause: error })
  }

  /** Refuses to store `data` beyond maxSessionBytes: a 413 for the call, and nothing written. */
  const assertFits = (data: S): void => {
    const bytes = sessionBytesOver(data, maxSessionBytes)
    if (bytes === undefined) return
    throw new PayloadTooLargeError(
      `The session would take ${bytes} bytes, more than the ${maxSessionBytes} a session may hold; nothing was saved`,
      { details: { sessionBytes: bytes, maxSessionBytes } },
    )
  }

  const guard = async <T>(operation: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run()
    } catch (error) {
      throw unavailable(operation, error)
    }
  }

  const loadById = async (id: string, loadOptions?: SessionLoadOptions): Promise<SessionRecord<S> | undefined> => {
    // The read on every request: called directly rather than through guard(), which would cost a
    // closure and an extra promise per request.
    let record: SessionRecord<S> | undefined
    try {
      record = await store.get(id)
    } catch (error) {
      throw unavailable('get', error)
    }
    if (record === undefined) return undefined
    const now = clock()
    // The store enforces expiresAt; the timeouts are checked here too so that shortening them in
    // configuration takes effect for sessions stored under the old values.
    if (lifetime.isExpired(record, now)) {
      if (await guard('delete', () => store.delete(id, 'expired'))) emitAbout('expired', record, loadOptions?.protocol)
      return undefined
    }
    return record
  }

  // Changes to one session made in this process go through one lane. Concurrent requests of one
  // user (tabs, parallel fetches, an agent's tool calls) would otherwise all send their
  // compare-and-set with the same version: one wins each round, the others re-read and try again,
  // and beyond maxUpdateAttempts they fail with a ConflictError. In a lane, changes that arrive
  // while a write is in flight wait for it, and then go to the store together, as one write: each
  // applied (and its precondition checked) on top of the ones before it, on the record the last
  // write left. The compare-and-set still decides: writers in other processes conflict and re-read
  // as before. One write per round trip for a busy session, however many requests it serves.
  // A null-prototype object, not a Map, for the same reason as the read cache's calls in flight
  // (decision 036): every write adds its id and removes it, and the chain V8 makes of a Map's
  // outgrown tables kept garbage alive through young collections (a memory-store PUT: 7.6 µs of CPU
  // with a Map, 4.8 without).
  const lanes: Record<string, WriteLane<S> | undefined> = Object.create(null) as Record<string, WriteLane<S> | undefined>

  const commitInLane = (
    state: SessionState<S>,
    baseline: SessionRecord<S>,
    precondition: ((stored: Readonly<S>) => void) | undefined,
    credential: CredentialKind | undefined,
  ): Promise<SessionCommitResult> => {
    const patch = state.patch
    if ((patch === undefined || patch.size === 0) && recordedCredential(baseline, credential) === undefined) return Promise.resolve(UNCHANGED)
    const change: PendingChange<S> = { state, baseline, precondition, credential, settled: false }
    const lane = lanes[baseline.id]
    if (lane === undefined) return writeAlone(change)
    return new Promise<SessionCommitResult>((resolve, reject) => {
      change.resolve = resolve
      change.reject = reject
      lane.queue.push(change)
    })
  }

  /** The common case: no write of this session in flight here. Hands the lane on to what queued meanwhile. */
  const writeAlone = async (change: PendingChange<S>): Promise<SessionCommitResult> => {
    const id = change.baseline.id
    const lane: WriteLane<S> = { queue: [], written: undefined }
    lanes[id] = lane
    try {
      await writeChanges(lane, [change], change.baseline)
    } finally {
      if (lane.queue.length === 0) delete lanes[id]
      else void driveLane(id, lane)
    }
    if (change.failed) throw change.error
    return change.result!
  }

  /** Writes what queued in `lane`, batch after batch, until it is empty. Settles every change; never rejects. */
  const driveLane = async (id: string, lane: WriteLane<S>): Promise<void> => {
    let changes = lane.queue
    try {
      while (changes.length > 0) {
        lane.queue = []
        // The newest record known: the lane's last write, or the newest one a change loaded.
        let start = lane.written
        for (const change of changes) if (start === undefined || change.baseline.version > start.version) start = change.baseline
        await writeChanges(lane, changes, start!)
        changes = lane.queue
      }
    } catch (error) {
      // writeChanges settles every change itself; this only guards against a bug leaving one waiting.
      for (const change of [...changes, ...lane.queue]) if (!change.settled) fail(change, error)
    } finally {
      delete lanes[id]
    }
  }

  const succeed = (change: PendingChange<S>, result: SessionCommitResult): void => {
    change.settled = true
    change.result = result
    change.resolve?.(result)
  }
  const fail = (change: PendingChange<S>, error: unknown): void => {
    change.settled = true
    change.failed = true
    change.error = error
    change.reject?.(error)
  }

  const writeChanges = async (lane: WriteLane<S>, changes: readonly PendingChange<S>[], start: SessionRecord<S>): Promise<void> => {
    let pending = changes
    let current: SessionRecord<S> | undefined = start
    for (let attempt = 0; attempt < maxUpdateAttempts; attempt++) {
      if (current === undefined) {
        for (const change of pending) {
          change.state.reset()
          succeed(change, REVOKED)
        }
        return
      }
      // Each change in order, on top of the ones before it; its precondition is checked on the very
      // data its write replaces, so a rule a concurrent writer broke is never overwritten.
      let data = current.data
      let changesData = false
      let refused = false
      let metadata: SessionMetadata | undefined
      for (const change of pending) {
        try {
          change.precondition?.(data)
          const patch = change.state.patch
          change.changesData = patch !== undefined && patch.size > 0
          if (change.changesData) {
            const next = applySessionPatch(data, patch!)
            assertFits(next)
            data = next
            changesData = true
          }
          // Checked on the record this write replaces: another server may have recorded it already.
          metadata ??= recordedCredential(current, change.credential)
        } catch (error) {
          refused = true
          fail(change, error)
        }
      }
      if (refused) {
        pending = pending.filter((change) => !change.settled)
        if (pending.length === 0) return
      }
      if (!changesData && metadata === undefined) {
        for (const change of pending) {
          change.state.resume(current)
          succeed(change, UNCHANGED)
        }
        return
      }
      const now = clock()
      const expiresAt = expiryFor(current.createdAt, now)
      let result: SessionUpdateResult
      // Not through guard(): this is the write of every changing request.
      try {
        result = await store.update(current.id, current.version, metadata === undefined ? { data, lastActiveAt: now, expiresAt } : { data, lastActiveAt: now, expiresAt, metadata })
      } catch (error) {
        const failure = unavailable('update', error)
        for (const change of pending) fail(change, failure)
        return
      }
      if (result === 'ok') {
        const record: SessionRecord<S> = {
          id: current.id,
          userId: current.userId,
          data,
          version: current.version + 1,
          createdAt: current.createdAt,
          lastActiveAt: now,
          expiresAt,
          ...((metadata ?? current.metadata) === undefined ? {} : { metadata: metadata ?? current.metadata }),
        }
        lane.written = record
        const updated: SessionCommitResult = { kind: 'updated', record }
        for (const change of pending) {
          change.state.resume(record)
          // A credential recorded alone changes no data: not an update of the session.
          if (change.changesData) emitAbout('updated', record, change.state.callProtocol)
          succeed(change, updated)
        }
        return
      }
      if (result === 'missing') {
        for (const change of pending) {
          change.state.reset()
          succeed(change, REVOKED)
        }
        return
      }
      // Someone else wrote first: re-read and re-apply only our fields on top of theirs.
      try {
        current = await loadById(start.id, { protocol: pending[0]!.state.callProtocol })
      } catch (error) {
        for (const change of pending) fail(change, error)
        return
      }
    }
    const conflict = new ConflictError('The session kept changing concurrently; the update was not saved')
    for (const change of pending) fail(change, conflict)
  }

  /** Every commit but the in-place change of a stored session (see `commit`). */
  const commitOther = async (state: SessionState<S>, options: SessionCommitOptions<S> | undefined): Promise<SessionCommitResult> => {
    const baseline = state.baseline
    const pending = state.pending
    if (state.transient) return UNCHANGED

    if (pending !== undefined) {
      const data = state.current as S
      // Before any write: a refused login keeps the client's previous session as it was.
      assertFits(data)
      const now = clock()
      const metadata = options?.metadata ?? (baseline?.userId === data.userId ? baseline.metadata : undefined)
      const record: SessionRecord<S> = {
        id: pending.id,
        userId: data.userId,
        data,
        version: 1,
        createdAt: now,
        lastActiveAt: now,
        expiresAt: expiryFor(now, now),
        ...(metadata === undefined ? {} : { metadata }),
      }
      await guard('set', () => store.set(record))
      // Fixation defence: the session this client had before the login is destroyed.
      let replaced = false
      if (baseline !== undefined && state.dropsBaseline) {
        replaced = await guard('delete', () => store.delete(baseline.id, 'cleared'))
      }
      state.resume(record)
      if (events.active) {
        // A login's protocol is the one it was recorded on, when the state was not run by a runner.
        const protocol = state.callProtocol ?? record.metadata?.protocol
        if (replaced && baseline!.userId === record.userId) {
          events.emit({
            type: 'rotated',
            handle: sessionHandle(record.id),
            userId: record.userId,
            previousHandle: sessionHandle(baseline!.id),
            ...eventClient(now, record.metadata, protocol),
          })
        } else {
          // Another user's session ended by this login is a logout of that user.
          if (replaced) emitAbout('cleared', baseline!, protocol)
          emitAbout('created', record, protocol)
        }
      }
      // The client's next request brings this token: no hash then, and the id it finds is the
      // very string the store was given.
      rememberToken(pending.token, pending.id)
      return {
        kind: 'created',
        token: pending.token,
        record,
        absoluteExpiresAt: now + absoluteTimeout,
      }
    }

    if (baseline === undefined) return UNCHANGED

    if (state.dropsBaseline) {
      if (await guard('delete', () => store.delete(baseline.id, 'cleared'))) emitAbout('cleared', baseline, state.callProtocol)
      state.reset()
      return { kind: 'cleared' }
    }

    if (state.changed || recordedCredential(baseline, options?.credential) !== undefined) {
      return await commitInLane(state, baseline, options?.precondition, options?.credential)
    }

    const now = clock()
    if (!lifetime.renewalDue(baseline.lastActiveAt, now)) return UNCHANGED
    const expiresAt = expiryFor(baseline.createdAt, now)
    const touched = await guard('touch', () => store.touch(baseline.id, now, expiresAt))
    if (!touched) {
      state.reset()
      return { kind: 'revoked' }
    }
    state.resume({ ...baseline, lastActiveAt: now, expiresAt })
    emitAbout('renewed', baseline, state.callProtocol)
    return { kind: 'renewed', expiresAt }
  }

  const loadByToken = (token: string | undefined, loadOptions?: SessionLoadOptions): Promise<SessionRecord<S> | undefined> => {
    // Credentials come from untrusted input, which is not always a string at runtime.
    if (typeof token !== 'string') return Promise.resolve(undefined)
    const id = idForToken(token)
    return id === undefined ? Promise.resolve(undefined) : loadById(id, loadOptions)
  }
  // A store that holds records in this process (the memory store, a read cache) answers a hit at
  // once: so does loadByToken's synchronous twin, with the same checks. Anything else (no record
  // known now, one past a timeout, which loadById deletes and reports) is left to loadByToken.
  const storeGetNow = syncTwinOf(store.get)
  if (storeGetNow !== undefined) {
    withSyncTwin(loadByToken, (token: string | undefined): SessionRecord<S> | undefined => {
      if (typeof token !== 'string') return undefined
      const id = idForToken(token)
      if (id === undefined) return undefined
      const record = storeGetNow(id)
      return record === undefined || lifetime.isExpired(record, clock()) ? undefined : record
    })
  }

  const manager: SessionManager<S> = {
    store,
    lifetime,
    idleTimeout,
    absoluteTimeout,
    renewalInterval,
    maxSessionBytes,
    clock,

    loadByToken,

    loadById,

    createState(record) {
      const state = new SessionState<S>()
      state.useInventory(manager)
      if (record !== undefined) state.resume(record)
      return state
    },

    commit(state, options) {
      state.useInventory(manager)
      // Not an async function itself: the common write (a change to a stored session) returns
      // commitInLane's own promise, without the extra turns an async function takes to adopt one.
      const baseline = state.baseline
      if (baseline !== undefined && state.changed && !state.transient && state.pending === undefined && !state.dropsBaseline) {
        return commitInLane(state, baseline, options?.precondition, options?.credential)
      }
      return commitOther(state, options)
    },

    needsCommit(state, commitOptions) {
      if (state.transient) return false
      if (state.pending !== undefined) return true
      const baseline = state.baseline
      if (baseline === undefined) return false
      if (state.dropsBaseline || state.changed) return true
      if (recordedCredential(baseline, commitOptions?.credential) !== undefined) return true
      return lifetime.renewalDue(baseline.lastActiveAt, clock())
    },

    async revoke(id, revokeOptions) {
      // Read first only when someone listens: the event names the session's user and client.
      const record = events.active ? await guard('get', () => store.get(id)) : undefined
      const deleted = await guard('delete', () => store.delete(id, 'revoked'))
      if (deleted && record !== undefined) emitRevoked(record, revokeOptions)
      return deleted
    },

    async revokeHandle(userId, handle, revokeOptions) {
      if (typeof handle !== 'string' || typeof userId !== 'string') return false
      const records = await guard('listByUser', () => store.listByUser(userId))
      const record = records.find((candidate) => sessionHandle(candidate.id) === handle)
      if (record === undefined) return false
      const deleted = await guard('delete', () => store.delete(record.id, 'revoked'))
      if (deleted) emitRevoked(record, revokeOptions)
      return deleted
    },

    revokeOthers(current, revokeOptions) {
      return manager.revokeUser(current.userId, { ...revokeOptions, except: current.id })
    },

    async revokeUser(userId, revokeOptions) {
      const except = revokeOptions?.except
      // The listing names each revoked session in its event; a session created between the two
      // calls is still revoked (deleteByUser is the store's one atomic step) but gets no event.
      const listed = events.active ? await guard('listByUser', () => store.listByUser(userId)) : []
      const removed = await guard('deleteByUser', () => store.deleteByUser(userId, except === undefined ? undefined : { except }))
      for (const record of listed) if (record.id !== except) emitRevoked(record, revokeOptions)
      return removed
    },

    listUserSessions(userId) {
      return guard('listByUser', () => store.listByUser(userId))
    },

    async list(userId, listOptions) {
      const records = await guard('listByUser', () => store.listByUser(userId))
      const now = clock()
      const entries: SessionListEntry[] = []
      for (const record of records) {
        if (lifetime.isExpired(record, now)) continue
        entries.push(listEntry(record, record.id === listOptions?.current))
      }
      // Most recently used first: the order a "where you're signed in" page shows.
      return entries.sort((a, b) => b.lastSeenAt - a.lastSeenAt || b.createdAt - a.createdAt)
    },

    handleOf: sessionHandle,

    refused(refusal) {
      if (events.active) events.emit(refusedEvent(clock(), refusal))
    },

    onEvent(listener) {
      return events.subscribe(listener)
    },

    subscribe(listener) {
      return store.subscribe(listener)
    },
  }
  return manager
}

/** The metadata `record` should store once its client used `credential`, or undefined when nothing changes. */
function recordedCredential(record: SessionRecord<CoreUserSession>, credential: CredentialKind | undefined): SessionMetadata | undefined {
  const metadata = record.metadata
  if (credential === undefined || metadata === undefined || metadata.credential === credential) return undefined
  return { ...metadata, credential }
}

function listEntry(record: SessionRecord<CoreUserSession>, current: boolean): SessionListEntry {
  const metadata = record.metadata
  return {
    handle: sessionHandle(record.id),
    protocol: metadata?.protocol,
    credential: metadata?.credential,
    client: metadata?.label,
    address: metadata?.address,
    createdAt: record.createdAt,
    lastSeenAt: record.lastActiveAt,
    expiresAt: record.expiresAt,
    current,
  }
}
