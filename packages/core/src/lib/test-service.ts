export interface TestServiceCheck {
  /** The service's name in messages, e.g. 'Redis'. */
  name: string
  /** Where the tests look for it, e.g. the URL. */
  where: string
  /** How to make it available, e.g. 'start redis-server (or .ci/run), or set REDIS_URL'. */
  hint: string
  /** Resolves when the service answers; rejects with the reason when it does not. */
  probe: () => Promise<void>
}

/**
 * The one policy for integration tests that need a running service: when it answers, run them;
 * when it does not, skip them with a printed notice so the test command passes on a bare laptop;
 * but when `CI` is set, a missing service is a failure, so CI can never pass by skipping.
 */
export async function testServiceAvailable(check: TestServiceCheck): Promise<boolean> {
  try {
    await check.probe()
    return true
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    if (process.env['CI']) {
      throw new Error(`${check.name} is not reachable at ${check.where} (${reason}), and CI is set, so this is a failure, not a skip: ${check.hint}.`)
    }
    // eslint-disable-next-line no-console
    console.warn(`\n  SKIPPED: tests that need ${check.name}. It is not reachable at ${check.where} (${reason}).\n  To run them: ${check.hint}.\n`)
    return false
  }
}
