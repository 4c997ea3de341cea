import { describe, expect, it } from 'vitest'
import { retryAfterText } from './retry-after-text.js'

describe('retryAfterText', () => {
  it('rounds a wait up to seconds, minutes or hours, as a person reads it', () => {
    expect(retryAfterText(1)).toBe('1 second')
    expect(retryAfterText(60)).toBe('60 seconds')
    expect(retryAfterText(89)).toBe('89 seconds')
    expect(retryAfterText(90)).toBe('2 minutes')
    expect(retryAfterText(900)).toBe('15 minutes')
    expect(retryAfterText(61 * 60 + 1)).toBe('62 minutes')
    expect(retryAfterText(90 * 60)).toBe('2 hours')
    expect(retryAfterText(3 * 3600 + 1)).toBe('4 hours')
  })
})
