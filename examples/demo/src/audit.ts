import { join } from 'node:path'
import { type Logger, pikkuFunc } from '@pikku/core'
import { wireHTTP, type HTTPRoute } from '@pikku/http'
import { type AuditRecord, createFileAuditSink, createSessionAudit, type SessionAudit } from '@pikku/session-audit'
import { isAdmin } from './session-functions.js'

/** How many events `GET /admin/audit` returns. */
export const AUDIT_PAGE_SIZE = 100

/**
 * The demo's audit trail: every sign-in, sign-out, revocation, expiry and refused credential,
 * appended to DATA_DIR/audit.jsonl (rotated at 10 MiB, five old files kept). The server and local
 * CLI commands append to the same file.
 */
export function openDemoAudit(dataDir: string, logger: Logger): SessionAudit {
  return createSessionAudit({ sinks: [createFileAuditSink({ path: join(dataDir, 'audit.jsonl') })], logger })
}

/** The last events of `audit`, newest first, for admins. */
export function auditLogFunction(audit: SessionAudit) {
  return pikkuFunc<void, AuditRecord[]>({
    name: 'getAuditLog',
    permissions: isAdmin,
    func: async () => await audit.recent(AUDIT_PAGE_SIZE),
    docs: {
      summary: 'The last 100 session events (admins)',
      description: 'Sign-ins, sign-outs, revocations, expiries and refused credentials, newest first, with protocol, user and client. Needs the admin permission.',
      tags: ['admin'],
      errors: ['FORBIDDEN'],
    },
  })
}

/** `GET /admin/audit`. */
export function auditRoutes(audit: SessionAudit): readonly HTTPRoute[] {
  return [wireHTTP({ method: 'GET', route: '/admin/audit', func: auditLogFunction(audit) })]
}
