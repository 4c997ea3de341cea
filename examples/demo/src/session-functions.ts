import { pikkuFunc, pikkuPermission, type SessionListEntry } from '@pikku/core'
import { z } from 'zod'

// "Where you're signed in": the user's sessions on every protocol, and ending them. Written once,
// served over HTTP, WebSocket, the CLI and MCP like the other functions.

/** One of the caller's live sessions, as every protocol returns it. */
export interface SignedInSession {
  /** Names the session for `revokeSession`; not a credential. */
  handle: string
  /** The session of this call. */
  current: boolean
  protocol: string | undefined
  credential: string | undefined
  /** Browser and OS, `cli@<host>`, an MCP client's name and version. */
  client: string | undefined
  ip: string | undefined
  /** ISO 8601. */
  createdAt: string
  /** ISO 8601; moves with the session's renewal, not on every request. */
  lastSeenAt: string
}

function toSignedInSession(entry: SessionListEntry): SignedInSession {
  return {
    handle: entry.handle,
    current: entry.current,
    protocol: entry.protocol,
    credential: entry.credential,
    client: entry.client,
    ip: entry.address,
    createdAt: new Date(entry.createdAt).toISOString(),
    lastSeenAt: new Date(entry.lastSeenAt).toISOString(),
  }
}

export const listSessions = pikkuFunc<void, SignedInSession[]>({
  name: 'listSessions',
  func: async (_services, _data, { session }) => (await session.list()).map(toSignedInSession),
  docs: {
    summary: "List where you're signed in",
    description: 'Your live sessions on every protocol (web, WebSocket, CLI, MCP), the current one marked current: true.',
    tags: ['sessions'],
  },
})

// A handle is 22 base64url characters today; the schema only bounds it, so a handle of another
// shape is answered like any unknown one (404), not with a validation error that tells them apart.
const handleSchema = z.string().min(1).max(128)

export const revokeSession = pikkuFunc<{ handle: string }, { success: true }>({
  name: 'revokeSession',
  input: z.object({ handle: handleSchema }),
  func: async (_services, { handle }, { session }) => {
    // Only the caller's own sessions: core answers a handle of another user's session with
    // NotFoundError (404), the same as a handle that never existed.
    await session.revoke(handle)
    return { success: true }
  },
  docs: {
    summary: 'Sign out one of your sessions',
    description: 'Ends the session named by its handle (from listSessions) on its protocol, within a second, on every server.',
    tags: ['sessions'],
    errors: ['NOT_FOUND'],
  },
})

export const revokeOtherSessions = pikkuFunc<void, { revoked: number }>({
  name: 'revokeOtherSessions',
  func: async (_services, _data, { session }) => ({ revoked: await session.revokeOthers() }),
  docs: {
    summary: 'Sign out everywhere else',
    description: 'Ends every session of yours except this one.',
    tags: ['sessions'],
  },
})

/** Passes for users with the `admin` permission. */
export const isAdmin = pikkuPermission(async (_services, _data, { session }) => (await session.get())?.permissions.includes('admin') === true)

export const revokeUserSessions = pikkuFunc<{ userId: string }, { revoked: number }>({
  name: 'revokeUserSessions',
  input: z.object({ userId: z.string().min(1).max(128) }),
  permissions: isAdmin,
  func: async ({ sessions }, { userId }, { session, protocol }) => {
    const admin = await session.get()
    // The protocol of this call goes on the events: the audit trail says where the admin acted.
    return { revoked: await sessions.revokeUser(userId, { by: `admin:${admin.userId}`, reason: 'admin', protocol }) }
  },
  docs: {
    summary: "End all of a user's sessions (admins)",
    description: 'Signs the user out on every protocol and server. Needs the admin permission.',
    tags: ['sessions', 'admin'],
    errors: ['FORBIDDEN'],
  },
})

const sessionsCommandInput = z
  .object({
    action: z.enum(['list', 'revoke', 'revoke-others']).default('list'),
    handle: handleSchema.optional(),
  })
  .refine((input) => (input.action === 'revoke') === (input.handle !== undefined), {
    message: '`sessions revoke` takes a handle (from `sessions`), and only `revoke` takes one',
    path: ['handle'],
  })

export type SessionsCommandResult =
  | { action: 'list'; sessions: SignedInSession[] }
  | { action: 'revoke'; handle: string; success: true }
  | { action: 'revoke-others'; revoked: number }

/**
 * The CLI's `sessions [list | revoke <handle> | revoke-others]`: the three functions above behind
 * one command, since a CLI command is one function (and one RPC name in remote mode).
 */
export const sessionsCommand = pikkuFunc<z.input<typeof sessionsCommandInput>, SessionsCommandResult>({
  name: 'sessions',
  input: sessionsCommandInput,
  func: async (services, input, wire) => {
    switch (input.action ?? 'list') {
      case 'revoke':
        return { action: 'revoke', handle: input.handle!, ...(await revokeSession.func(services, { handle: input.handle! }, wire)) }
      case 'revoke-others':
        return { action: 'revoke-others', ...(await revokeOtherSessions.func(services, undefined, wire)) }
      default:
        return { action: 'list', sessions: await listSessions.func(services, undefined, wire) }
    }
  },
  docs: {
    summary: "Where you're signed in: list, revoke <handle>, revoke-others",
    description: '`sessions` lists your sessions (* marks this one); `sessions revoke <handle>` signs one out; `sessions revoke-others` signs out all but this one.',
    tags: ['sessions'],
    errors: ['NOT_FOUND'],
  },
})
