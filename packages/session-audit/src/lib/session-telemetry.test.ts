import * as otel from '@opentelemetry/api'
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics'
import { BasicTracerProvider, InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import {
  type CoreUserSession,
  createMemoryStore,
  createRunner,
  pikkuFunc,
  silentLogger,
  createSessionManager,
  type SessionManager,
  sessionMetadata,
  type SessionStore,
} from '@pikku/core'
import type { SessionState } from '@pikku/core/protocol'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { instrumentSessionManager } from './session-telemetry.js'

/** Lets the manager's event subscribers (run after the response) run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

let spans: InMemorySpanExporter
let tracerProvider: BasicTracerProvider
let metricExporter: InMemoryMetricExporter
let reader: PeriodicExportingMetricReader
let meterProvider: MeterProvider

beforeEach(() => {
  spans = new InMemorySpanExporter()
  tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] })
  metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
  reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000 })
  meterProvider = new MeterProvider({ readers: [reader] })
})
afterEach(async () => {
  await tracerProvider.shutdown()
  await meterProvider.shutdown()
})

function instrumented(store: SessionStore<CoreUserSession> = createMemoryStore()): SessionManager<CoreUserSession> {
  const manager = createSessionManager<CoreUserSession>({ store })
  return instrumentSessionManager(manager, { store: 'memory', tracer: tracerProvider.getTracer('test'), meter: meterProvider.getMeter('test') })
}

async function logIn(manager: SessionManager<CoreUserSession>, protocol = 'http', credential = 'cookie') {
  const state = manager.createState()
  await state.set({ userId: 'alice' })
  const result = await manager.commit(state, { metadata: sessionMetadata(protocol, credential) })
  if (result.kind !== 'created') throw new Error(`expected a login, got ${result.kind}`)
  return { token: result.token, id: result.record.id }
}

/** Clears the session in a call on `protocol`, run by core's runner as a protocol package runs it. */
async function logOutThrough(state: SessionState<CoreUserSession>, protocol: string): Promise<void> {
  const runner = createRunner({ services: {}, logger: silentLogger })
  await runner.run(pikkuFunc<void, void>({ func: (_services, _data, { session }) => session.clear() }), undefined, { protocol, session: state as never })
}

/** Each counter's total by name, and its data points' attributes. */
async function counters(): Promise<Map<string, { total: number; attributes: Record<string, unknown>[] }>> {
  await reader.forceFlush()
  const found = new Map<string, { total: number; attributes: Record<string, unknown>[] }>()
  for (const resource of metricExporter.getMetrics()) {
    for (const scope of resource.scopeMetrics) {
      for (const metric of scope.metrics) {
        const points = metric.dataPoints as { value: number; attributes: Record<string, unknown> }[]
        found.set(metric.descriptor.name, { total: points.reduce((sum, point) => sum + point.value, 0), attributes: points.map((point) => point.attributes) })
      }
    }
  }
  return found
}

const attributesOf = (span: ReadableSpan): Record<string, unknown> => ({ ...span.attributes })

describe('OpenTelemetry for sessions', () => {
  it('traces a load and a commit with store, outcome, the call’s protocol, the session’s own and its handle, never the token', async () => {
    const manager = instrumented()
    const { token, id } = await logIn(manager, 'mcp', 'bearer')
    expect(await manager.loadByToken(token, { protocol: 'http' })).toBeDefined()
    expect(await manager.loadByToken('pikku_not-a-session-token-at-all-000000000000')).toBeUndefined()
    // The session an MCP client created, loaded and ended by a CLI command.
    const state = manager.createState(await manager.loadByToken(token, { protocol: 'cli' }))
    await logOutThrough(state, 'cli')
    await manager.commit(state)

    const finished = spans.getFinishedSpans()
    expect(finished.map((span) => [span.name, span.attributes['pikku.session.outcome']])).toEqual([
      ['pikku.session.commit', 'created'],
      ['pikku.session.load', 'found'],
      ['pikku.session.load', 'none'],
      ['pikku.session.load', 'found'],
      ['pikku.session.commit', 'cleared'],
    ])
    expect(attributesOf(finished[0]!)).toMatchObject({ 'pikku.session.protocol': 'mcp', 'pikku.session.created_protocol': 'mcp' })
    expect(attributesOf(finished[1]!)).toEqual({
      'pikku.session.store': 'memory',
      'pikku.session.outcome': 'found',
      'pikku.session.handle': manager.handleOf(id),
      'pikku.session.protocol': 'http',
      'pikku.session.created_protocol': 'mcp',
    })
    expect(attributesOf(finished[2]!)).not.toHaveProperty('pikku.session.protocol')
    expect(attributesOf(finished[3]!)).toMatchObject({ 'pikku.session.protocol': 'cli', 'pikku.session.created_protocol': 'mcp' })
    expect(attributesOf(finished[4]!)).toMatchObject({ 'pikku.session.handle': manager.handleOf(id), 'pikku.session.protocol': 'cli', 'pikku.session.created_protocol': 'mcp' })
    const everything = JSON.stringify(finished.map((span) => [span.name, span.attributes, span.events]))
    expect(everything).not.toContain(token)
    expect(everything).not.toContain(id)
  })

  it('makes no span for a request without a credential or a commit with nothing to write', async () => {
    const manager = instrumented()
    const { token } = await logIn(manager)
    spans.reset()
    expect(await manager.loadByToken(undefined)).toBeUndefined()
    const state = manager.createState(await manager.loadByToken(token))
    await manager.commit(state)
    expect(spans.getFinishedSpans().map((span) => span.name)).toEqual(['pikku.session.load'])
  })

  it('counts logins, logouts, revocations and refused credentials, by the protocol of the call', async () => {
    const manager = instrumented()
    const first = await logIn(manager, 'http', 'cookie')
    await logIn(manager, 'cli', 'bearer')
    const second = await logIn(manager, 'channel', 'in-band')
    const state = manager.createState(await manager.loadById(first.id))
    await logOutThrough(state, 'http')
    await manager.commit(state)
    // The socket's session, revoked from a command line.
    await manager.revoke(second.id, { by: 'alice', reason: 'user', protocol: 'cli' })
    manager.refused({ credential: 'bearer', reason: 'invalid', protocol: 'mcp' })
    await settle()

    const found = await counters()
    expect(found.get('pikku.session.logins')?.total).toBe(3)
    expect(found.get('pikku.session.logins')?.attributes).toContainEqual({ protocol: 'cli', credential: 'bearer' })
    expect(found.get('pikku.session.logouts')).toEqual({ total: 1, attributes: [{ protocol: 'http', credential: 'cookie' }] })
    expect(found.get('pikku.session.revocations')).toEqual({ total: 1, attributes: [{ protocol: 'cli', credential: 'in-band', reason: 'user' }] })
    expect(found.get('pikku.session.refused_credentials')).toEqual({ total: 1, attributes: [{ protocol: 'mcp', credential: 'bearer', reason: 'invalid' }] })
  })

  it('marks a load the store could not answer as an error and counts it as a store error', async () => {
    const working = createMemoryStore<CoreUserSession>()
    const failing: SessionStore<CoreUserSession> = { ...working, get: () => Promise.reject(new Error('connection refused by 10.0.0.5')) }
    const manager = instrumented(failing)
    const { token } = await logIn(manager)
    await expect(manager.loadByToken(token)).rejects.toThrow('The session store is unavailable')
    const [, load] = spans.getFinishedSpans()
    expect(load!.attributes['pikku.session.outcome']).toBe('error')
    expect(load!.status.code).toBe(otel.SpanStatusCode.ERROR)
    expect((await counters()).get('pikku.session.store_errors')).toEqual({ total: 1, attributes: [{ operation: 'load', store: 'memory' }] })
  })

  it('uses the globally registered providers through @opentelemetry/api by default', async () => {
    otel.trace.setGlobalTracerProvider(tracerProvider)
    try {
      const manager = instrumentSessionManager(createSessionManager<CoreUserSession>({ store: createMemoryStore() }), { store: 'memory' })
      await logIn(manager)
      expect(spans.getFinishedSpans().map((span) => span.instrumentationScope.name)).toEqual(['@pikku/session-audit'])
    } finally {
      otel.trace.disable()
    }
  })

  it('keeps every other member of the manager as it is', async () => {
    const manager = createSessionManager<CoreUserSession>({ store: createMemoryStore() })
    const wrapped = instrumentSessionManager(manager, { store: 'memory', tracer: tracerProvider.getTracer('t'), meter: meterProvider.getMeter('t') })
    expect(wrapped).not.toBe(manager)
    expect(wrapped.store).toBe(manager.store)
    expect(wrapped.idleTimeout).toBe(manager.idleTimeout)
    await logIn(wrapped)
    expect(await wrapped.list('alice')).toHaveLength(1)
  })

  it('refuses what is not a manager or has no store name', () => {
    expect(() => instrumentSessionManager({} as never, { store: 'memory' })).toThrow('instrumentSessionManager needs a session manager')
    expect(() => instrumentSessionManager(createSessionManager({ store: createMemoryStore() }), {} as never)).toThrow('instrumentSessionManager needs { store }')
  })
})
