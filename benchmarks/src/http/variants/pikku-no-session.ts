import type { RunningVariant } from '../variant.js'
import { startPikku } from './pikku-app.js'

/** Pikku's HTTP runtime with no session middleware: what the runtime itself costs. */
export function start(): RunningVariant {
  return startPikku({ credential: 'none' })
}
