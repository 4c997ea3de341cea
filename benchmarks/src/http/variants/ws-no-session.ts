import type { RunningVariant } from '../variant.js'
import { startChannel } from './ws-channel.js'

export function start(): RunningVariant {
  return startChannel(false)
}
