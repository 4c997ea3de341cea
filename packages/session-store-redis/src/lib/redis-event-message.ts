import type { SessionDeleteReason } from '@pikku/core'

/**
 * The `changed` event message (core's `SessionEventMessage`) that the record-writing Lua scripts
 * publish themselves, split around its version: the script sends `head + version + tail`. A touch
 * learns the version only inside its script, so the script inserts it; an update or a set inserts
 * the version it has just written, which is the one in its arguments.
 */
export interface ChangedMessage {
  /** Everything up to the version: `{"origin":…,"event":{"type":"changed",…,"version":`. */
  head: string
  /** What follows the version. */
  tail: string
}

/** Builds the `changed` messages of one store instance (`origin`). */
export function changedMessageBuilder(origin: string): (id: string, userId: string, expiresAt: number) => ChangedMessage {
  const start = `{"origin":${JSON.stringify(origin)},"event":{"type":"changed","id":`
  // JSON.stringify for every value, as for the whole message before: the same escapes, and a
  // non-finite expiresAt still becomes null (which subscribers reject).
  return (id, userId, expiresAt) => ({
    head: `${start}${JSON.stringify(id)},"userId":${JSON.stringify(userId)},"expiresAt":${JSON.stringify(expiresAt)},"version":`,
    tail: '}}',
  })
}

/**
 * Builds the `deleted` messages of one store instance (`origin`), split around the user id: the
 * delete script reads the record's owner and sends `head + JSON string of the owner + tail`.
 */
export function deletedMessageBuilder(origin: string): (id: string, reason: SessionDeleteReason) => ChangedMessage {
  const start = `{"origin":${JSON.stringify(origin)},"event":{"type":"deleted","id":`
  return (id, reason) => ({ head: `${start}${JSON.stringify(id)},"userId":`, tail: `,"reason":${JSON.stringify(reason)}}}` })
}
