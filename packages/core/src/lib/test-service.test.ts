import { afterEach, describe, expect, it, vi } from 'vitest'
import { testServiceAvailable } from './test-service.js'

const check = (probe: () => Promise<void>) => ({ name: 'Redis', where: 'redis://127.0.0.1:1', hint: 'start redis-server', probe })

describe('integration tests that need a service', () => {
  const ci = process.env['CI']
  afterEach(() => {
    if (ci === undefined) delete process.env['CI']
    else process.env['CI'] = ci
    vi.restoreAllMocks()
  })

  it('run when the service answers', async () => {
    expect(await testServiceAvailable(check(async () => {}))).toBe(true)
  })

  it('are skipped with a notice when it does not, outside CI', async () => {
    delete process.env['CI']
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    expect(await testServiceAvailable(check(async () => Promise.reject(new Error('connection refused'))))).toBe(false)
    expect(warn.mock.calls[0]?.[0]).toMatch(/SKIPPED: tests that need Redis.*connection refused.*start redis-server/s)
  })

  it('fail instead of skipping when CI is set', async () => {
    process.env['CI'] = 'true'
    await expect(testServiceAvailable(check(async () => Promise.reject(new Error('connection refused'))))).rejects.toThrow(
      /Redis is not reachable at redis:\/\/127\.0\.0\.1:1 \(connection refused\), and CI is set/,
    )
  })
})
