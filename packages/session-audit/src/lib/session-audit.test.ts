import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type CoreUserSession,
  createMemoryStore,
  createSessionManager,
  type Logger,
  sessionMetadata,
  type SessionManager,
} from '@pikku/core'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { AuditRecord } from './audit-record.js'
import type { AuditSink } from './audit-sink.js'
import { createFileAuditSink } from './file-sink.js'
import { createSessionAudit, type SessionAudit } from './session-audit.js'

interface NotedSession extends CoreUserSession {
  note: string
}

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pikku-audit-'))
})
afterEach(() => {
  rmSync(dir, { recursive: true, force: true })
})

/** Lets the manager's subscribers (run after the response, on setImmediate) and the queue run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

async function logIn(manager: SessionManager<NotedSession>, userId: string, secret: string) {
  const state = manager.createState()
  await state.set({ userId, note: secret })
  const result = await manager.commit(state, { metadata: sessionMetadata('http', 'cookie', { label: 'Firefox on Linux', address: '203.0.113.7' }) })
  if (result.kind !== 'created') throw new Error(`expected a login, got ${result.kind}`)
  return { token: result.token, state, id: result.record.id }
}

function recordingLogger(): Logger & { readonly errors: string[] } {
  const errors: string[] = []
  return { errors, debug: () => {}, info: () => {}, warn: () => {}, error: (message) => void errors.push(message) }
}

/** A sink that keeps records in memory and fails while `failing` is set. */
function memorySink(): AuditSink & { records: AuditRecord[]; failing: boolean; writes: number } {
  const sink = {
    name: 'memory',
    records: [] as AuditRecord[],
    failing: false,
    writes: 0,
    async write(records: readonly AuditRecord[]) {
      sink.writes++
      if (sink.failing) throw new Error('sink down')
      sink.records.push(...records)
    },
    async recent(limit: number) {
      return sink.records.slice(-limit).reverse()
    },
    async close() {},
  }
  return sink
}

describe('session audit', () => {
  let audit: SessionAudit | undefined
  afterEach(async () => {
    await audit?.close()
    audit = undefined
  })

  it('records a login, a logout and a revocation with protocol, user and client, and never the token or the data', async () => {
    const path = join(dir, 'audit.jsonl')
    audit = createSessionAudit({ sinks: [createFileAuditSink({ path })] })
    const manager = createSessionManager<NotedSession>({ store: createMemoryStore(), onEvent: audit.onEvent })
    const first = await logIn(manager, 'alice', 'first-session-secret')
    const second = await logIn(manager, 'alice', 'second-session-secret')
    await first.state.clear()
    await manager.commit(first.state)
    // An admin's revocation from a command line: the call's protocol, beside the session's own.
    await manager.revoke(second.id, { by: 'user-admin', reason: 'admin', protocol: 'cli' })
    await settle()
    await audit.flush()

    const lines = readFileSync(path, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as AuditRecord)
    // The logout's commit ran outside a runner here, so it names no call protocol.
    expect(lines.map((line) => [line.type, line.userId, line.protocol, line.createdProtocol, line.credential, line.label, line.address])).toEqual([
      ['created', 'alice', 'http', 'http', 'cookie', 'Firefox on Linux', '203.0.113.7'],
      ['created', 'alice', 'http', 'http', 'cookie', 'Firefox on Linux', '203.0.113.7'],
      ['cleared', 'alice', undefined, 'http', 'cookie', 'Firefox on Linux', '203.0.113.7'],
      ['revoked', 'alice', 'cli', 'http', 'cookie', 'Firefox on Linux', '203.0.113.7'],
    ])
    expect(lines[3]).toMatchObject({ by: 'user-admin', reason: 'admin', handle: manager.handleOf(second.id) })
    const text = readFileSync(path, 'utf8')
    for (const secret of [first.token, second.token, first.id, second.id, 'first-session-secret', 'second-session-secret']) expect(text).not.toContain(secret)
    expect((await audit.recent(2)).map((record) => record.type)).toEqual(['revoked', 'cleared'])
  })

  it('leaves out updates and renewals unless asked, and records only the types asked for', async () => {
    const sink = memorySink()
    audit = createSessionAudit({ sinks: [sink], types: ['created', 'updated'] })
    const manager = createSessionManager<NotedSession>({ store: createMemoryStore(), onEvent: audit.onEvent })
    const { state } = await logIn(manager, 'alice', 'x')
    await state.set({ userId: 'alice', note: 'changed' })
    await manager.commit(state)
    await state.clear()
    await manager.commit(state)
    await settle()
    await audit.flush()
    expect(sink.records.map((record) => record.type)).toEqual(['created', 'updated'])
  })

  it('a failing sink breaks no call: the failure is logged once and its records are written when it recovers', async () => {
    const sink = memorySink()
    const healthy = memorySink()
    const logger = recordingLogger()
    sink.failing = true
    // Only the retry timer is faked: the manager's subscribers still run on setImmediate.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    audit = createSessionAudit({ sinks: [sink, healthy], logger, retryDelay: 1_000 })
    const manager = createSessionManager<NotedSession>({ store: createMemoryStore(), onEvent: audit.onEvent })
    for (let i = 0; i < 3; i++) await logIn(manager, `user-${i}`, 'x')
    await settle()
    await audit.flush()
    expect(healthy.records).toHaveLength(3)
    expect(sink.records).toHaveLength(0)
    await vi.advanceTimersByTimeAsync(1_000 + 2_000)
    expect(sink.writes).toBe(3)
    expect(logger.errors).toEqual(['audit sink memory failed; its records are kept and retried'])
    sink.failing = false
    await vi.advanceTimersByTimeAsync(4_000)
    vi.useRealTimers()
    expect(sink.records.map((record) => record.userId)).toEqual(['user-0', 'user-1', 'user-2'])
  })

  it('drops the oldest waiting records past maxQueued, and says so', async () => {
    const sink = memorySink()
    const logger = recordingLogger()
    sink.failing = true
    audit = createSessionAudit({ sinks: [sink], logger, maxQueued: 5, maxBatch: 5, retryDelay: 60_000 })
    for (let i = 0; i < 8; i++) audit.onEvent({ type: 'refused', at: i, credential: 'bearer', reason: 'invalid', protocol: 'http', createdProtocol: undefined, label: undefined, address: undefined })
    await settle()
    expect(logger.errors).toContain('audit sink memory is behind by 5 records; the oldest waiting are dropped')
  })

  it('refuses options that would not work, saying what to change', () => {
    expect(() => createSessionAudit({ sinks: [] })).toThrow('createSessionAudit needs { sinks }')
    expect(() => createSessionAudit({ sinks: [{} as AuditSink] })).toThrow('every sink must be an AuditSink')
    expect(() => createSessionAudit({ sinks: [memorySink()], types: ['login' as never] })).toThrow('types may hold only created, rotated')
    expect(() => createSessionAudit({ sinks: [memorySink()], maxQueued: 10, maxBatch: 20 })).toThrow('maxQueued (10) must be at least maxBatch (20)')
  })
})
