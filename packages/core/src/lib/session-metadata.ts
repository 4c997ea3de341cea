import * as nodeCrypto from 'node:crypto'
import type { CredentialKind } from './authenticator.js'
import type { PikkuProtocol } from './wire.js'

/**
 * Who a session's client is, recorded by the protocol package when the session is created (a
 * login) and kept beside the session data in every store. Never part of the app's `UserSession`:
 * functions read it through `session.list()`. Times live on the record (`createdAt`,
 * `lastActiveAt`).
 */
export interface SessionMetadata {
  /** The protocol the login arrived on (`http`, `channel`, `cli`, `mcp`). */
  readonly protocol: PikkuProtocol
  /** How the client presents the session (`cookie`, `bearer`, `in-band`, `oauth`…). */
  readonly credential: CredentialKind
  /** A short human label: browser and OS family, `cli@<hostname>`, an MCP client's `name/version`. */
  readonly label?: string
  /** The client's network address as the protocol adapter knows it (trusted-proxy aware). */
  readonly address?: string
}

/** The longest label or address kept: both come from what a client chose to send. */
const MAX_METADATA_TEXT = 120
// Control characters (and the Unicode line and paragraph separators) would let a client forge lines
// in logs and audit trails that print the label.
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g

/**
 * A label or address from untrusted input made safe to store and print: a string without control
 * characters, trimmed, at most 120 characters; undefined when nothing usable is left.
 */
export function cleanMetadataText(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined
  let text = value.replace(UNPRINTABLE, '').trim()
  if (text.length > MAX_METADATA_TEXT) {
    text = text.slice(0, MAX_METADATA_TEXT)
    // Never end on half of a surrogate pair.
    if (/[\uD800-\uDBFF]$/.test(text)) text = text.slice(0, -1)
    text = text.trimEnd()
  }
  return text === '' ? undefined : text
}

/**
 * Metadata for a new session: what protocol packages pass to `commit(state, { metadata })` at a
 * login. Label and address are cleaned (`cleanMetadataText`); absent ones are left out.
 */
export function sessionMetadata(
  protocol: PikkuProtocol,
  credential: CredentialKind,
  client?: { readonly label?: string | undefined; readonly address?: string | undefined },
): SessionMetadata {
  const label = cleanMetadataText(client?.label)
  const address = cleanMetadataText(client?.address)
  const metadata: { protocol: PikkuProtocol; credential: CredentialKind; label?: string; address?: string } = { protocol, credential }
  if (label !== undefined) metadata.label = label
  if (address !== undefined) metadata.address = address
  return metadata
}

/**
 * Reads stored metadata back, keeping only well-formed fields: stores give back what they were
 * given, but a record written by an older version or by hand may hold anything.
 */
export function readSessionMetadata(value: unknown): SessionMetadata | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const { protocol, credential, label, address } = value as Record<string, unknown>
  if (typeof protocol !== 'string' || typeof credential !== 'string') return undefined
  const client: { label?: string; address?: string } = {}
  if (typeof label === 'string') client.label = label
  if (typeof address === 'string') client.address = address
  return sessionMetadata(protocol, credential, client)
}

/** For stores that keep metadata as JSON text: the metadata, or undefined for text that is not. */
export function parseSessionMetadata(json: string): SessionMetadata | undefined {
  try {
    return readSessionMetadata(JSON.parse(json))
  } catch {
    return undefined
  }
}

/**
 * The public name of a session: what `list()` shows, events and audit trails carry, and
 * `revoke` takes. Not a credential: it is a one-way hash of the storage id (itself a hash of the
 * token), so neither the token nor the id can be recovered from it, and no store lookup accepts it.
 */
export type SessionHandle = string

// Domain separation: a handle is never equal to a hash computed for any other purpose.
const HANDLE_PREFIX = 'pikku.session-handle.v1\0'

/** The handle of the session stored under `id`: base64url of SHA-256, 22 characters (132 bits). */
export function sessionHandle(id: string): SessionHandle {
  return nodeCrypto.createHash('sha256').update(HANDLE_PREFIX).update(id).digest('base64url').slice(0, 22)
}

/** One live session of a user, as `sessions.list(userId)` returns it. */
export interface SessionListEntry {
  /** Names the session for `revoke`; never the token nor anything the token comes from. */
  readonly handle: SessionHandle
  /** Undefined for sessions stored before metadata was recorded. */
  readonly protocol: PikkuProtocol | undefined
  readonly credential: CredentialKind | undefined
  /** The client's label (browser and OS, `cli@host`, MCP client). */
  readonly client: string | undefined
  /** The client's address when the session was created. */
  readonly address: string | undefined
  /** Login time, ms since the epoch. */
  readonly createdAt: number
  /** Last renewal or change, ms since the epoch: updated with the renewal throttle, not on every read. */
  readonly lastSeenAt: number
  /** When the session ends unless used again. */
  readonly expiresAt: number
  /** True for the session of the call that listed (only through `session.list()`). */
  readonly current: boolean
}

/** Who ended a session and why, recorded on the `revoked` event. */
export interface SessionRevokeOptions {
  /**
   * Who revoked: the acting user's id, or a name for the system (`'admin:<id>'`, `'system'`).
   * @default 'system'
   */
  readonly by?: string
  /**
   * Why, for audit trails (`'user'`, `'admin'`, `'password-change'`, `'security'`…).
   * @default 'revoked'
   */
  readonly reason?: string
  /**
   * The protocol of the call that revoked (`wire.protocol`), for the `revoked` event's `protocol`.
   * `session.revoke()` and `session.revokeOthers()` pass their call's.
   * @default undefined (not a call: server code, a script)
   */
  readonly protocol?: PikkuProtocol
}
