import type { RunningVariant } from '../variant.js'
import { startBare } from './bare.js'

/** Calibration: bare node:http plus 4 µs of busy work per request (about what sessions add in-process). */
export function start(): RunningVariant {
  return startBare(4)
}
