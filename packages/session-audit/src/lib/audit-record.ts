import type { SessionLifecycleEventType } from '@pikku/core'

/** The session event types core's session manager emits. */
export const AUDIT_EVENT_TYPES = ['created', 'rotated', 'updated', 'renewed', 'cleared', 'revoked', 'expired', 'refused'] as const satisfies readonly SessionLifecycleEventType[]
export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number]
// An event type core adds is a compile error here until the audit lists it.
const everyCoreType: Exclude<SessionLifecycleEventType, AuditEventType> extends never ? true : false = true
void everyCoreType

/**
 * The events an audit trail keeps unless told otherwise: sign-ins, sign-outs, revocations,
 * expiries and refused credentials. `updated` and `renewed` happen on ordinary use of a session
 * and would drown the rest.
 */
export const DEFAULT_AUDITED_TYPES: readonly AuditEventType[] = ['created', 'rotated', 'cleared', 'revoked', 'expired', 'refused']

/**
 * One line of the audit trail: the fields of core's session lifecycle event, with its time as
 * ISO 8601. Only these fields are ever written: never a token, a password or the session's data.
 * Every field but `type` and `at` is absent when the event did not carry it.
 */
export interface AuditRecord {
  readonly type: AuditEventType
  /** When it happened, ISO 8601 (UTC). */
  readonly at: string
  /** The session's public handle (never usable as a credential); absent for `refused`. */
  readonly handle?: string
  /** `rotated`: the handle of the session the login replaced. */
  readonly previousHandle?: string
  readonly userId?: string
  /**
   * The protocol of the call that did it (`http`, `channel`, `cli`, `mcp`, or the name a custom
   * protocol gives itself): a revocation from the CLI is `cli` whatever it revoked. Absent for an
   * action outside a call.
   */
  readonly protocol?: string
  /** The protocol the session was created on. */
  readonly createdProtocol?: string
  /** How the client presents the session (`cookie`, `bearer`, `in-band`…); for `refused`, the kind that failed. */
  readonly credential?: string
  /** A short label of the client: a browser and OS, `cli@host`, an MCP client's name. */
  readonly label?: string
  /** The client's address, as the protocol package determined it. */
  readonly address?: string
  /** `revoked`: who ended the session (a user id, or what the app passed). */
  readonly by?: string
  /** `revoked` and `refused`: why. */
  readonly reason?: string
}

// Longer values are cut: a field of an audit line is a label, and a client-chosen string
// (User-Agent, MCP clientInfo) must not make lines of arbitrary size.
const MAX_FIELD_LENGTH = 256
const OPTIONAL_FIELDS = ['handle', 'previousHandle', 'userId', 'protocol', 'createdProtocol', 'credential', 'label', 'address', 'by', 'reason'] as const
/**
 * The fields of an `AuditRecord`, in the order they are written. Sinks serialise with this list as
 * `JSON.stringify`'s allow-list, so an object with more fields than a record still writes only these.
 */
export const AUDIT_RECORD_FIELDS: readonly string[] = ['type', 'at', ...OPTIONAL_FIELDS]
const TYPES: ReadonlySet<string> = new Set(AUDIT_EVENT_TYPES)

const text = (value: unknown): string | undefined => {
  if (typeof value !== 'string') return undefined
  if (value.length <= MAX_FIELD_LENGTH) return value
  const cut = value.slice(0, MAX_FIELD_LENGTH)
  // Never end on half of a surrogate pair.
  return /[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut
}

const isoTime = (value: unknown): string | undefined => {
  if (typeof value === 'number' && Number.isFinite(value) && Math.abs(value) <= 8.64e15) return new Date(value).toISOString()
  if (value instanceof Date && !Number.isNaN(value.getTime())) return value.toISOString()
  if (typeof value === 'string' && value.length <= 40 && !Number.isNaN(Date.parse(value))) return new Date(Date.parse(value)).toISOString()
  return undefined
}

/**
 * Checks and copies a record read back from a sink (a JSON line, a row, a stream entry), or
 * anything of its shape. Fields are copied one by one by name, never spread, so nothing else an
 * object carries reaches the trail or a reader. Undefined when `input` is not
 * a record: no known `type`, or no valid time.
 */
export function parseAuditRecord(input: unknown): AuditRecord | undefined {
  if (input === null || typeof input !== 'object') return undefined
  const source = input as Record<string, unknown>
  const type = source['type']
  if (typeof type !== 'string' || !TYPES.has(type)) return undefined
  const at = isoTime(source['at'])
  if (at === undefined) return undefined
  const record: Record<string, string> = { type, at }
  for (const field of OPTIONAL_FIELDS) {
    const value = text(source[field])
    if (value !== undefined) record[field] = value
  }
  return record as unknown as AuditRecord
}
