import { describe, expect, it } from 'vitest'
import { CHANNEL_ERROR_TABLE } from './channel-error-table.js'
import { errorFrame } from './envelope.js'

describe("the channel's error table", () => {
  it('shows every error code in a reply as the code itself, as HTTP error bodies do', () => {
    for (const code of Object.keys(CHANNEL_ERROR_TABLE) as (keyof typeof CHANNEL_ERROR_TABLE)[]) {
      expect(JSON.parse(errorFrame(7, { code, message: 'm' }))).toEqual({ id: 7, error: { code, message: 'm' } })
    }
  })

  it('refuses upgrades with the HTTP status clients of the HTTP API already know for each code', () => {
    const statuses = Object.fromEntries(Object.entries(CHANNEL_ERROR_TABLE).map(([code, mapping]) => [code, mapping.upgradeStatus]))
    expect(statuses).toEqual({
      BAD_REQUEST: 400,
      UNAUTHORIZED: 401,
      FORBIDDEN: 403,
      NOT_FOUND: 404,
      CONFLICT: 409,
      PAYLOAD_TOO_LARGE: 413,
      TOO_MANY_REQUESTS: 429,
      SERVICE_UNAVAILABLE: 503,
      INTERNAL: 500,
    })
  })
})
