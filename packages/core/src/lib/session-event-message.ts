import type { SessionDeleteReason, SessionEvent } from './session-store.js'

/**
 * How distributed stores carry a session event between processes (Redis pub/sub, PostgreSQL
 * NOTIFY): the event plus the id of the store instance that sent it, so that instance does not
 * deliver its own events twice. `interrupted` and `resync` are never sent: each process detects its
 * own gaps.
 */
export interface SessionEventMessage {
  readonly origin: string
  readonly event: Exclude<SessionEvent, { type: 'interrupted' | 'resync' }>
}

const DELETE_REASONS: ReadonlySet<string> = new Set<SessionDeleteReason>(['cleared', 'revoked', 'expired', 'evicted'])

/**
 * Reads a message from another process. Anything else on the channel (a heartbeat, a message from
 * an incompatible version, garbage) is undefined; it never throws.
 */
export function parseSessionEventMessage(payload: string): SessionEventMessage | undefined {
  let parsed: unknown
  try {
    parsed = JSON.parse(payload)
  } catch {
    return undefined
  }
  return isSessionEventMessage(parsed) ? parsed : undefined
}

/** Whether a parsed value is a well-formed `SessionEventMessage`. */
export function isSessionEventMessage(value: unknown): value is SessionEventMessage {
  if (typeof value !== 'object' || value === null) return false
  const { origin, event } = value as { origin?: unknown; event?: unknown }
  if (typeof origin !== 'string' || typeof event !== 'object' || event === null) return false
  const fields = event as Record<string, unknown>
  if (typeof fields['id'] !== 'string' || typeof fields['userId'] !== 'string') return false
  switch (fields['type']) {
    case 'changed':
      return Number.isFinite(fields['version']) && Number.isFinite(fields['expiresAt'])
    case 'deleted':
      return typeof fields['reason'] === 'string' && DELETE_REASONS.has(fields['reason'])
    default:
      return false
  }
}

/**
 * A probe a store sends on its own event channel to check that its subscription still delivers
 * (pub/sub and LISTEN connections can go silent without an error).
 */
export function heartbeatMessage(origin: string, heartbeat: string): string {
  return JSON.stringify({ origin, heartbeat })
}

/** Whether a payload is the heartbeat `heartbeat` that this subscriber is waiting for. */
export function isHeartbeatMessage(payload: string, heartbeat: string | undefined): boolean {
  if (heartbeat === undefined) return false
  try {
    return (JSON.parse(payload) as { heartbeat?: unknown } | null)?.heartbeat === heartbeat
  } catch {
    return false
  }
}
