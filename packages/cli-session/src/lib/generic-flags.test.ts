import { Writable } from 'node:stream'
import { createMemoryStore, createRunner, createSessionManager, pikkuSessionlessFunc, silentLogger } from '@pikku/core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { CLIFailure } from './cli-failure.js'
import type { CLIIO } from './cli-options.js'
import { fieldOfGenericFlag, parseGenericArguments } from './generic-flags.js'
import { toFlagName } from './input-flags.js'
import { wireCLI } from './wire-cli.js'

// A command whose function has no input schema takes any --<field> <value>.

const field = fc.stringMatching(/^[a-z][a-z0-9]{0,7}([A-Z][a-z0-9]{1,5}){0,2}$/).filter((name) => !['help', 'json', 'version', 'profile', 'server', 'input'].includes(name) && !name.startsWith('no'))
// A value is any text that does not itself look like a flag.
const value = fc.string({ maxLength: 30 }).filter((text) => !text.startsWith('--') && text !== '-h')

describe('the generic flag parser', () => {
  it('reads back any set of --<field> <value> pairs, in either spelling', () => {
    fc.assert(
      fc.property(fc.dictionary(field, value, { maxKeys: 8 }), fc.boolean(), (input, inline) => {
        const args = Object.entries(input).flatMap(([name, text]) => (inline ? [`--${toFlagName(name)}=${text}`] : [`--${toFlagName(name)}`, text]))
        const parsed = parseGenericArguments('app', 'cmd', args)
        expect(parsed.fields).toEqual(input)
        expect(parsed.positionals).toEqual([])
        expect(parsed.values).toEqual({})
      }),
    )
  })

  it('never throws anything but a usage failure, and never sets a field it was not given', () => {
    const token = fc.oneof(
      fc.string({ maxLength: 12 }),
      fc.constantFrom('--', '-h', '--help', '--json', '--input', '--profile', '--server', '--version', '--no-', '--__proto__', '--constructor', '--=x', '--a=', '--no-a'),
      field.map((name) => `--${name}`),
      field.map((name) => `--no-${name}`),
    )
    fc.assert(
      fc.property(fc.array(token, { maxLength: 12 }), (args) => {
        try {
          const parsed = parseGenericArguments('app', 'cmd', args)
          expect(Object.getPrototypeOf(parsed.fields)).toBe(Object.prototype)
          for (const name of Object.keys(parsed.fields)) {
            expect(args.some((arg) => arg.startsWith('--') && fieldOfGenericFlag(arg.slice(2).split('=')[0]!.replace(/^no-/, '')) === name)).toBe(true)
          }
        } catch (error) {
          expect(error).toBeInstanceOf(CLIFailure)
          expect((error as CLIFailure).code).toBe('BAD_REQUEST')
        }
      }),
      { numRuns: 500 },
    )
  })

  it('takes --flag alone as true, --no-flag as false, a repeated flag as a list, and --user-id as userId', () => {
    const parsed = parseGenericArguments('app', 'cmd', ['--dry-run', '--no-notify', '--tag', 'a', '--tag', 'b', '--user-id', 'u1', '--note', '-5', '--json'])
    expect(parsed.fields).toEqual({ dryRun: true, notify: false, tag: ['a', 'b'], userId: 'u1', note: '-5' })
    expect(parsed.values).toEqual({ json: true })
  })

  it('keeps the global flags global and refuses what is not a flag name', () => {
    expect(parseGenericArguments('app', 'cmd', ['--profile', 'work', '--input', '{"a":1}', '-h']).values).toEqual({ profile: 'work', input: '{"a":1}', help: true })
    expect(() => parseGenericArguments('app', 'cmd', ['--profile'])).toThrow('--profile needs a value')
    expect(() => parseGenericArguments('app', 'cmd', ['--__proto__', 'x'])).toThrow(/is not a flag/)
    expect(() => parseGenericArguments('app', 'cmd', ['--a', '1', '--a', '2', '--no-a'])).toThrow(/more than once with --no-a/)
  })
})

class Capture extends Writable {
  text = ''
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.text += chunk.toString()
    callback()
  }
}

function io(): CLIIO & { stdout: Capture; stderr: Capture } {
  return { stdin: process.stdin, stdout: new Capture(), stderr: new Capture(), env: { HOME: '/nonexistent' } }
}

describe('a command whose function has no input schema', () => {
  const note = pikkuSessionlessFunc<{ title: string; pinned?: boolean }, unknown>({
    name: 'note',
    func: async (_services, data) => ({ received: data }),
    docs: { summary: 'Save a note' },
  })
  const local = { runner: createRunner({ services: {}, logger: silentLogger }), sessions: createSessionManager({ store: createMemoryStore() }) }
  const cli = wireCLI({ program: { name: 'app' }, commands: { note }, local })

  it('passes --<field> <value> flags and --input to the function', async () => {
    const streams = io()
    expect(await cli.run(['note', '--input', '{"count":3,"title":"old"}', '--title', 'Hello', '--pinned', '--json'], streams)).toBe(0)
    expect(JSON.parse(streams.stdout.text)).toEqual({ received: { count: 3, title: 'Hello', pinned: true } })
  })

  it('says in its help why it takes any flag, and how to pass typed values', async () => {
    const streams = io()
    expect(await cli.run(['note', '--help'], streams)).toBe(0)
    expect(streams.stdout.text).toContain('Usage:\n  app note [flags]')
    expect(streams.stdout.text).toContain('this function declares no input schema, so its fields cannot be listed or checked here')
    expect(streams.stdout.text).toContain("--input '{\"field\": 1}'")
  })

  it('still refuses a positional argument', async () => {
    const streams = io()
    expect(await cli.run(['note', 'Hello'], streams)).toBe(2)
    expect(streams.stderr.text).toContain('Unexpected argument "Hello"')
  })
})
