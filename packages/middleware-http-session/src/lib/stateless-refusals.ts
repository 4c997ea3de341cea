import type { Clock, Logger, PikkuWire, SessionLifecycleListener } from '@pikku/core'
import { createSessionLifecycleEmitter, refusedEvent } from '@pikku/core/protocol'

/** Reports one credential a stateless strategy's middleware rejected, with its kind and reason code. */
export type StatelessRefusalReporter = (wire: PikkuWire, refused: { readonly credential: string; readonly reason: string }) => void

/**
 * The `refused` events of a strategy without a session manager: core's emitter and event shape,
 * so subscribers (an audit trail) see them exactly as the stored strategy's `sessions.refused(…)`.
 * Undefined when nobody subscribes, so the middleware builds nothing.
 */
export function statelessRefusalReporter(where: string, onEvent: SessionLifecycleListener | undefined, logger: Logger, clock: Clock): StatelessRefusalReporter | undefined {
  if (onEvent === undefined) return undefined
  if (typeof onEvent !== 'function') throw new TypeError(`${where}: onEvent must be a function called with each session event; got ${typeof onEvent}`)
  const events = createSessionLifecycleEmitter(logger, onEvent)
  return (wire, refused) => {
    events.emit(refusedEvent(clock(), { credential: refused.credential, reason: refused.reason, protocol: wire.protocol, address: wire.client?.address }))
  }
}
