import type { CoreUserSession, UserSession } from './register.js'
import type { SessionMetadata } from './session-metadata.js'

/** One stored session, keyed by the hash of its token. All times are ms since the epoch. */
export interface SessionRecord<S extends CoreUserSession = UserSession> {
  /** Storage id: `hashSessionToken(token)`. Never the token itself. */
  readonly id: string
  /** Owner, for the per-user index. Always equal to `data.userId`. */
  readonly userId: string
  readonly data: S
  /** Incremented by every `update`; the compare-and-set key. A new record starts at 1. */
  readonly version: number
  readonly createdAt: number
  readonly lastActiveAt: number
  /** Absolute instant after which the store must behave as if the record did not exist. */
  readonly expiresAt: number
  /**
   * Who the client is (protocol, credential kind, label, address), recorded at login and kept by
   * `set`; `touch` leaves it as it is, and `update` unless its change carries `metadata`. Absent on records written without it. Stores
   * keep it beside `data`, never inside it.
   */
  readonly metadata?: SessionMetadata
}

/** The part of a record an `update` replaces. */
export interface SessionRecordChange<S extends CoreUserSession = UserSession> {
  readonly data: S
  readonly lastActiveAt: number
  readonly expiresAt: number
  /**
   * New metadata for the record, written with the change (the credential a session turned out to
   * be used with); absent, the record's metadata stays as it is.
   */
  readonly metadata?: SessionMetadata
}

export type SessionUpdateResult =
  /** Written; the record now has version `expectedVersion + 1`. */
  | 'ok'
  /** The stored version differs from the expected one; nothing was written. */
  | 'conflict'
  /** No live record with that id; nothing was written (a deleted session is never resurrected). */
  | 'missing'

/** Why a session went away, as told to long-lived connections. */
export type SessionDeleteReason = 'cleared' | 'revoked' | 'expired' | 'evicted'

export type SessionEvent =
  | {
      readonly type: 'changed'
      readonly id: string
      readonly userId: string
      readonly version: number
      readonly expiresAt: number
    }
  | {
      readonly type: 'deleted'
      readonly id: string
      readonly userId: string
      readonly reason: SessionDeleteReason
    }
  /**
   * The store can no longer vouch that events reach this process: a distributed store lost its
   * event connection, found it silent, or cannot reach its backend at all. Until the matching
   * `resync`, a revocation made elsewhere may never arrive, so a subscriber must not trust what it
   * holds without asking the store (a channel re-checks the session before each message). Sent once
   * per gap, however many losses the gap contains; a listener that subscribes during a gap gets it at
   * once. The memory store and other single-process stores never send it.
   */
  | { readonly type: 'interrupted' }
  /**
   * The store's event delivery was interrupted and has resumed (a distributed store's subscription
   * dropped and was re-established). Events may have been missed meanwhile, so a subscriber must
   * re-check whatever sessions it holds. Ends the gap an `interrupted` event opened (stores written
   * before `interrupted` existed send it alone). Never sent for a first subscription that worked;
   * the memory store never sends it.
   */
  | { readonly type: 'resync' }

export type SessionEventListener = (event: SessionEvent) => void

/**
 * The storage contract every session store implements. Stores hold data; the rules (idle and
 * absolute timeouts, renewal, new id on login) live in core's session manager.
 *
 * Every method that talks to a backend rejects with `ServiceUnavailableError` when the backend is
 * unreachable. Returned records never share mutable data with what is stored: they are copies, or
 * deeply frozen (the memory store hands every reader the same frozen value), so mutating one
 * either throws or changes nothing stored.
 */
export interface SessionStore<S extends CoreUserSession = UserSession> {
  /** The live record, or undefined when unknown or expired (`expiresAt <= now`). */
  get(id: string): Promise<SessionRecord<S> | undefined>
  /** Creates or replaces a record (with its absolute `expiresAt`) and indexes it under its user. */
  set(record: SessionRecord<S>): Promise<void>
  /** Compare-and-set: writes only if the stored version is `expectedVersion`. */
  update(id: string, expectedVersion: number, change: SessionRecordChange<S>): Promise<SessionUpdateResult>
  /** Moves a live record's activity and expiry without changing its data or version. */
  touch(id: string, lastActiveAt: number, expiresAt: number): Promise<boolean>
  /** Deletes one record; true when a live record was removed. */
  delete(id: string, reason?: SessionDeleteReason): Promise<boolean>
  /** The user's live records. */
  listByUser(userId: string): Promise<SessionRecord<S>[]>
  /** Deletes the user's records, optionally keeping one id; returns how many were removed. */
  deleteByUser(userId: string, options?: { except?: string }): Promise<number>
  /**
   * Revocation events: every change or deletion made through any process sharing this store.
   * In-process for the memory store; distributed stores deliver other servers' events too.
   */
  subscribe(listener: SessionEventListener): () => void
  /**
   * For stores that delete expired records in a sweep of their own (memory, SQLite, PostgreSQL):
   * tells `listener` what each sweep step removed, in the process that swept, after the deletion.
   * The session manager reports them as `expired` events. Absent for a store that cannot observe
   * its expiries (Redis key TTL). Returns the removal of the listener.
   */
  onSweep?(listener: SessionSweepListener): () => void
  /** Releases timers and connections. */
  close?(): Promise<void>
}

/** A session a store's sweep removed at its expiry: what the manager's `expired` event needs. */
export interface SweptSession {
  readonly id: string
  readonly userId: string
  readonly metadata?: SessionMetadata
}

/** Receives the sessions one sweep step removed (never an empty list). */
export type SessionSweepListener = (swept: readonly SweptSession[]) => void
