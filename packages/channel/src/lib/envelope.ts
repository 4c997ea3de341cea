import { BadRequestError, type PikkuError } from '@pikku/core'
import { type PublicError } from '@pikku/core/protocol'
import { CHANNEL_ERROR_CODE } from './channel-error-table.js'

/**
 * The JSON envelope spoken on a channel.
 *
 * - request (client → server): `{ "id": string | number, "func": string, "data"?: any }`
 * - reply (server → client):   `{ "id": …, "result": any }` or `{ "id": …, "error": { "code", "message", … } }`
 * - event (server → client):   `{ "event": string, "data": any }`
 *
 * A reply to a frame whose id could not be read carries `"id": null`.
 */
export type ChannelRequestId = string | number

export interface ChannelRequest {
  readonly id: ChannelRequestId
  readonly func: string
  readonly data?: unknown
}

/** A frame that is not a usable request, with the id to answer under when one could be read. */
export class RejectedFrame {
  constructor(
    readonly id: ChannelRequestId | null,
    readonly error: PikkuError,
  ) {}
}

function isRequestId(value: unknown): value is ChannelRequestId {
  return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value))
}

/**
 * Reads one text frame. On success the parsed object itself is returned (no copy: this runs for
 * every message); anything else becomes a `RejectedFrame` saying what is wrong.
 */
export function parseRequestFrame(text: string): ChannelRequest | RejectedFrame {
  let frame: unknown
  try {
    frame = JSON.parse(text)
  } catch (error) {
    return new RejectedFrame(null, new BadRequestError(`The frame is not valid JSON: ${(error as Error).message}`))
  }
  if (typeof frame !== 'object' || frame === null || Array.isArray(frame)) {
    return new RejectedFrame(null, new BadRequestError('A request must be a JSON object: { "id", "func", "data" }'))
  }
  const { id, func } = frame as Record<string, unknown>
  if (!isRequestId(id)) {
    return new RejectedFrame(null, new BadRequestError('A request needs an "id" that is a string or a finite number'))
  }
  if (typeof func !== 'string' || func.length === 0) {
    return new RejectedFrame(id, new BadRequestError('A request needs "func": the name of the function to call'))
  }
  return frame as ChannelRequest
}

/** `{"id":…,"result":…}`; an undefined result is sent as null so the key is always present. */
export function resultFrame(id: ChannelRequestId, result: unknown): string {
  // Built as a string to avoid an envelope object per reply; JSON.stringify escapes the id.
  const json = result === undefined ? undefined : JSON.stringify(result)
  return `{"id":${JSON.stringify(id)},"result":${json ?? 'null'}}`
}

/** `{"id":…,"error":{"code",…}}`, the code as the channel's error table shows it. */
export function errorFrame(id: ChannelRequestId | null, error: PublicError): string {
  const code = CHANNEL_ERROR_CODE[error.code]
  const shown = code === error.code ? error : { ...error, code }
  return `{"id":${JSON.stringify(id)},"error":${JSON.stringify(shown)}}`
}

export function eventFrame(event: string, data: unknown): string {
  const json = data === undefined ? undefined : JSON.stringify(data)
  return `{"event":${JSON.stringify(event)},"data":${json ?? 'null'}}`
}
