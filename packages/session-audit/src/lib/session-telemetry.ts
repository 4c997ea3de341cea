import {
  type CoreUserSession,
  PikkuError,
  type SessionLifecycleEvent,
  type SessionManager,
  type SessionRecord,
  type UserSession,
} from '@pikku/core'
import { type SessionCommitResult, type SessionLoadOptions } from '@pikku/core/protocol'
import { loadOpenTelemetryApi, type OpenTelemetryApi, SPAN_STATUS_ERROR, type TelemetryAttributes, type TelemetryCounter, type TelemetryMeter, type TelemetrySpan, type TelemetryTracer } from './opentelemetry-api.js'

export interface SessionTelemetryOptions {
  /**
   * The store's name, as the spans' `pikku.session.store` attribute and the store error counter's
   * `store` attribute say it: `memory`, `sqlite`, `redis`, `postgres`, or your own.
   */
  store: string
  /**
   * The tracer for the spans. When both `tracer` and `meter` are given, `@opentelemetry/api` is not
   * loaded at all.
   * @default api.trace.getTracer('@pikku/session-audit') of the installed @opentelemetry/api
   */
  tracer?: TelemetryTracer
  /** The meter for the counters. @default api.metrics.getMeter('@pikku/session-audit') */
  meter?: TelemetryMeter
  /**
   * The OpenTelemetry API to use.
   * @default `require('@opentelemetry/api')` when the app installed it; without it the manager is returned as it is
   */
  api?: OpenTelemetryApi
}

const SCOPE = '@pikku/session-audit'

/** The counters, one per outcome an operator watches. */
interface SessionCounters {
  readonly logins: TelemetryCounter
  readonly logouts: TelemetryCounter
  readonly revocations: TelemetryCounter
  readonly refused: TelemetryCounter
  readonly storeErrors: TelemetryCounter
}

function createCounters(meter: TelemetryMeter): SessionCounters {
  return {
    logins: meter.createCounter('pikku.session.logins', { description: 'Sessions started by a login (created or rotated)', unit: '{session}' }),
    logouts: meter.createCounter('pikku.session.logouts', { description: 'Sessions ended by their own logout', unit: '{session}' }),
    revocations: meter.createCounter('pikku.session.revocations', { description: 'Sessions ended by a revocation', unit: '{session}' }),
    refused: meter.createCounter('pikku.session.refused_credentials', { description: 'Credentials that failed verification', unit: '{credential}' }),
    storeErrors: meter.createCounter('pikku.session.store_errors', { description: 'Session loads and commits that failed because the store was unavailable', unit: '{error}' }),
  }
}

/** Attributes of a counter from an event: only labels of low cardinality, never a handle or user. */
function eventAttributes(event: SessionLifecycleEvent, withReason: boolean): TelemetryAttributes {
  const attributes: TelemetryAttributes = {}
  if (event.protocol !== undefined) attributes['protocol'] = event.protocol
  if (event.credential !== undefined) attributes['credential'] = event.credential
  if (withReason && 'reason' in event) attributes['reason'] = event.reason
  return attributes
}

const isStoreOutage = (error: unknown): boolean => error instanceof PikkuError && error.code === 'SERVICE_UNAVAILABLE'

/**
 * Adds OpenTelemetry spans around the session manager's loads and commits, and counters of
 * logins, logouts, revocations, refused credentials and store errors. Returns a manager to hand to
 * the protocol packages in place of `manager`; or `manager` itself, untouched, when the app has
 * not installed `@opentelemetry/api` (and passed no tracer and meter), so leaving telemetry out
 * costs nothing.
 *
 * Spans are `pikku.session.load` and `pikku.session.commit`, with `pikku.session.store`,
 * `pikku.session.outcome` (`found`, `none` or `error` for a load; the commit's kind, or `error`),
 * `pikku.session.protocol` (the protocol of the call: the state's `callProtocol` for a commit, the
 * `protocol` a load was given; absent when not known), and, when a session is involved,
 * `pikku.session.handle` (its public handle, never the token) and `pikku.session.created_protocol`
 * (the protocol the session was created on). A commit that has nothing
 * to write (`needsCommit` false) makes no span.
 */
export function instrumentSessionManager<S extends CoreUserSession = UserSession>(manager: SessionManager<S>, options: SessionTelemetryOptions): SessionManager<S> {
  if (manager === null || typeof manager !== 'object' || typeof manager.loadByToken !== 'function' || typeof manager.onEvent !== 'function') {
    throw new TypeError('instrumentSessionManager needs a session manager (createSessionManager from @pikku/core)')
  }
  if (options === null || typeof options !== 'object' || typeof options.store !== 'string' || options.store === '') {
    throw new TypeError("instrumentSessionManager needs { store }: the store's name for the spans, e.g. 'redis'")
  }
  const api = options.tracer !== undefined && options.meter !== undefined ? undefined : (options.api ?? loadOpenTelemetryApi())
  const tracer = options.tracer ?? api?.trace.getTracer(SCOPE)
  const meter = options.meter ?? api?.metrics.getMeter(SCOPE)
  if (tracer === undefined || meter === undefined) return manager

  const store = options.store
  const counters = createCounters(meter)
  manager.onEvent((event) => {
    switch (event.type) {
      case 'created':
      case 'rotated':
        counters.logins.add(1, eventAttributes(event, false))
        return
      case 'cleared':
        counters.logouts.add(1, eventAttributes(event, false))
        return
      case 'revoked':
        counters.revocations.add(1, eventAttributes(event, true))
        return
      case 'refused':
        counters.refused.add(1, eventAttributes(event, true))
        return
      default:
        return
    }
  })

  /** The call's protocol, then the session's handle and the protocol it was created on. */
  const describe = (span: TelemetrySpan, protocol: string | undefined, record: Pick<SessionRecord<S>, 'id' | 'metadata'> | undefined): void => {
    if (protocol !== undefined) span.setAttribute('pikku.session.protocol', protocol)
    if (record === undefined) return
    span.setAttribute('pikku.session.handle', manager.handleOf(record.id))
    const createdProtocol = record.metadata?.protocol
    if (createdProtocol !== undefined) span.setAttribute('pikku.session.created_protocol', createdProtocol)
  }

  const failed = (span: TelemetrySpan, operation: string, error: unknown): void => {
    span.setAttribute('pikku.session.outcome', 'error')
    span.setStatus({ code: SPAN_STATUS_ERROR, message: error instanceof Error ? error.message : String(error) })
    if (error instanceof Error) span.recordException(error)
    if (isStoreOutage(error)) counters.storeErrors.add(1, { operation, store })
  }

  const traced = <T>(name: string, operation: string, run: () => Promise<T>, done: (span: TelemetrySpan, result: T) => void): Promise<T> =>
    tracer.startActiveSpan(name, { attributes: { 'pikku.session.store': store } }, async (span) => {
      try {
        const result = await run()
        done(span, result)
        return result
      } catch (error) {
        failed(span, operation, error)
        throw error
      } finally {
        span.end()
      }
    })

  const loaded = (protocol: string | undefined) => (span: TelemetrySpan, record: SessionRecord<S> | undefined): void => {
    span.setAttribute('pikku.session.outcome', record === undefined ? 'none' : 'found')
    describe(span, protocol, record)
  }

  // Every other member is the manager's own, read through the prototype.
  const instrumented: SessionManager<S> = Object.create(manager) as SessionManager<S>
  Object.assign(instrumented, {
    loadByToken(token: string | undefined, loadOptions?: SessionLoadOptions) {
      // No credential, no load: nothing to trace.
      if (typeof token !== 'string') return manager.loadByToken(token, loadOptions)
      return traced('pikku.session.load', 'load', () => manager.loadByToken(token, loadOptions), loaded(loadOptions?.protocol))
    },
    loadById(id: string, loadOptions?: SessionLoadOptions) {
      return traced('pikku.session.load', 'load', () => manager.loadById(id, loadOptions), loaded(loadOptions?.protocol))
    },
    commit(state: Parameters<SessionManager<S>['commit']>[0], commitOptions?: Parameters<SessionManager<S>['commit']>[1]) {
      if (!manager.needsCommit(state, commitOptions)) return manager.commit(state, commitOptions)
      // Read before the commit: a logout resets the state.
      const before = state.baseline
      return traced('pikku.session.commit', 'commit', () => manager.commit(state, commitOptions), (span, result: SessionCommitResult) => {
        span.setAttribute('pikku.session.outcome', result.kind)
        const record = result.kind === 'created' || result.kind === 'updated' ? (result.record as SessionRecord<S>) : before
        // A login's protocol is its own, also when no runner ran the state (as in core's events).
        describe(span, state.callProtocol ?? (result.kind === 'created' ? record?.metadata?.protocol : undefined), record)
      })
    },
  } satisfies Partial<SessionManager<S>>)
  return instrumented
}
