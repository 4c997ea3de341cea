import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { CLIFailure } from './cli-failure.js'
import { takeLoginMethod } from './oauth-login.js'

describe('choosing how login signs in', () => {
  it('--web, --device and a bare --password choose; the login function\'s own input means the password login; nothing means the CLI chooses', () => {
    expect(takeLoginMethod(['--web', '--server', 'http://x'], 'password')).toEqual({ method: 'web', args: ['--server', 'http://x'] })
    expect(takeLoginMethod(['--device'], 'password')).toEqual({ method: 'device', args: [] })
    expect(takeLoginMethod(['--email', 'a@b', '--password'], 'password')).toEqual({ method: 'password', args: ['--email', 'a@b'] })
    expect(takeLoginMethod(['--password', '--json'], 'password')).toEqual({ method: 'password', args: ['--json'] })
    expect(takeLoginMethod(['--email', 'a@b', '--password', 'secret'], 'password')).toEqual({ method: 'password', args: ['--email', 'a@b', '--password', 'secret'] })
    expect(takeLoginMethod(['alice@example.com'], 'password')).toEqual({ method: 'password', args: ['alice@example.com'] })
    expect(takeLoginMethod([], 'password')).toEqual({ method: 'auto', args: [] })
    // Without a password field, --password is the function's business (and parseArgs reports it).
    expect(takeLoginMethod(['--password'], undefined)).toEqual({ method: 'password', args: ['--password'] })
    // After `--`, nothing is the CLI's.
    expect(takeLoginMethod(['--', '--web'], 'password')).toEqual({ method: 'password', args: ['--', '--web'] })
  })

  it('two ways at once is a usage error (exit 2)', () => {
    expect(() => takeLoginMethod(['--web', '--device'], 'password')).toThrow(CLIFailure)
  })

  it('any argument list gives a method and a subsequence of the arguments, or a usage error; never anything else', () => {
    const word = fc.oneof(fc.constantFrom('--web', '--device', '--password', '--', '--email', 'x', '--json', '-'), fc.string())
    fc.assert(
      fc.property(fc.array(word, { maxLength: 12 }), fc.constantFrom('password', undefined), (args, field) => {
        let result
        try {
          result = takeLoginMethod(args, field)
        } catch (error) {
          expect(error).toBeInstanceOf(CLIFailure)
          expect((error as CLIFailure).exitCode).toBe(2)
          return
        }
        expect(['web', 'device', 'password', 'auto']).toContain(result.method)
        let index = 0
        for (const arg of result.args) {
          index = args.indexOf(arg, index) + 1
          expect(index).toBeGreaterThan(0)
        }
      }),
    )
  })
})
