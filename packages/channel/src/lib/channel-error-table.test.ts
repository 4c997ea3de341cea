import { describe, expect, it } from 'vitest'
import { CHANNEL_ERROR_CODE } from './channel-error-table.js'
import { errorFrame } from './envelope.js'

describe("the channel's error table", () => {
  it('shows every error code in a reply as the code itself, as HTTP error bodies do', () => {
    for (const code of Object.keys(CHANNEL_ERROR_CODE) as (keyof typeof CHANNEL_ERROR_CODE)[]) {
      expect(CHANNEL_ERROR_CODE[code]).toBe(code)
      expect(JSON.parse(errorFrame(7, { code, message: 'm' }))).toEqual({ id: 7, error: { code, message: 'm' } })
    }
    expect(Object.keys(CHANNEL_ERROR_CODE)).toHaveLength(9)
  })
})
