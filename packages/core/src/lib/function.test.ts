import { describe, expect, it, vi } from 'vitest'
import { z } from 'zod'
import { BadRequestError } from './errors.js'
import { functionName, pikkuFunc, pikkuSessionlessFunc } from './function.js'
import { inputJsonSchema } from './input-schema.js'
import { silentLogger } from './logger.js'
import { createRunner } from './runner.js'
import { SessionState } from './session-state.js'
import type { PikkuWire } from './wire.js'

function anonymousWire(): PikkuWire {
  return { protocol: 'test', session: new SessionState() }
}

function signedInWire(userId = 'alice'): PikkuWire {
  const session = new SessionState()
  session.resumeTransient({ userId })
  return { protocol: 'test', session }
}

const runner = createRunner({ services: {}, logger: silentLogger })

describe('pikkuFunc and pikkuSessionlessFunc', () => {
  it('a pikkuFunc called without a session is refused with UnauthorizedError and never runs', async () => {
    const func = vi.fn(async () => 'secret')
    const fn = pikkuFunc<void, string>({ func })
    await expect(runner.run(fn, undefined, anonymousWire())).rejects.toMatchObject({ code: 'UNAUTHORIZED' })
    expect(func).not.toHaveBeenCalled()
  })

  it('a pikkuFunc called with a session runs and sees it', async () => {
    const fn = pikkuFunc<void, string>({ func: async (_services, _data, { session }) => (await session.get()).userId })
    expect(await runner.run(fn, undefined, signedInWire('alice'))).toBe('alice')
  })

  it('a pikkuSessionlessFunc runs without a session, and sees one when there is one', async () => {
    const fn = pikkuSessionlessFunc<void, string>({
      func: async (_services, _data, { session }) => (await session.get())?.userId ?? 'anonymous',
      auth: false,
    })
    expect(await runner.run(fn, undefined, anonymousWire())).toBe('anonymous')
    expect(await runner.run(fn, undefined, signedInWire('bob'))).toBe('bob')
  })

  it('keeps docs, name, auth and middleware as metadata protocols read', () => {
    const docs = { summary: 'Get a report', description: 'The monthly report', tags: ['reports'], errors: ['NOT_FOUND'] } as const
    const middleware = async (_s: unknown, _w: unknown, next: () => Promise<void>) => next()
    const fn = pikkuFunc<void, void>({ name: 'reports.get', func: async () => {}, docs, middleware: [middleware] })
    expect(fn.kind).toBe('pikku-function')
    expect(fn.docs).toEqual(docs)
    expect(fn.name).toBe('reports.get')
    expect(fn.auth).toBe(true)
    expect(fn.middleware).toEqual([middleware])
    expect(pikkuSessionlessFunc<void, void>({ func: async () => {}, auth: false }).auth).toBe(false)
    expect(Object.isFrozen(fn)).toBe(true)
  })

  it('a function is named explicitly or by the key it is registered under', () => {
    const named = pikkuFunc<void, void>({ name: 'explicit', func: async () => {} })
    const unnamed = pikkuFunc<void, void>({ func: async () => {} })
    expect(functionName(named, 'key')).toBe('explicit')
    expect(functionName(unnamed, 'listTodos')).toBe('listTodos')
  })

  it('refuses a name protocols cannot use, when the function is defined', () => {
    for (const name of ['', '1starts-with-digit', 'has space', 'slash/inside', 'x'.repeat(65), 'émoji']) {
      expect(() => pikkuFunc<void, void>({ name, func: async () => {} })).toThrow(/name must start with a letter/)
    }
    expect(() => pikkuFunc<void, void>({ name: 'todos.list_v2-beta', func: async () => {} })).not.toThrow()
  })

  it('refuses a registration key protocols cannot use as a name', () => {
    const unnamed = pikkuFunc<void, void>({ func: async () => {} })
    expect(() => functionName(unnamed, 'has space')).toThrow(/name must start with a letter/)
    expect(() => functionName(unnamed, '')).toThrow(/name must start with a letter/)
  })

  it('refuses misuse at definition time with a message saying what to change', () => {
    expect(() => pikkuFunc({ func: async () => {}, auth: false } as never)).toThrow(/use pikkuSessionlessFunc/)
    expect(() => pikkuSessionlessFunc({ func: async () => {}, auth: true } as never)).toThrow(/use pikkuFunc/)
    expect(() => pikkuFunc({} as never)).toThrow(/needs \{ func/)
    expect(() => pikkuFunc({ func: async () => {}, input: { parse: () => 1 } } as never)).toThrow(/Standard Schema/)
    expect(() => pikkuFunc({ func: async () => {}, docs: { summary: '' } })).toThrow(/docs.summary/)
  })
})

describe('input schemas', () => {
  const CreateTodo = z.object({
    title: z.string().min(1),
    due: z.object({ day: z.number().int().min(1).max(31) }).optional(),
    tags: z.array(z.string()).default([]),
  })

  it('validates input with a zod 4 schema before the function runs, and passes the parsed value', async () => {
    const func = vi.fn(async (_services: unknown, data: z.output<typeof CreateTodo>) => data)
    const fn = pikkuSessionlessFunc({ func, input: CreateTodo, auth: false })
    expect(await runner.run(fn, { title: 'Write tests' }, anonymousWire())).toEqual({ title: 'Write tests', tags: [] })
    expect(func).toHaveBeenCalledOnce()
  })

  it('invalid input is a BadRequestError listing every issue with its path, and the function never runs', async () => {
    const func = vi.fn(async () => 'ran')
    const fn = pikkuSessionlessFunc({ func, input: CreateTodo, auth: false })
    const error = await runner.run(fn, { title: '', due: { day: 40 }, tags: ['ok', 3] }, anonymousWire()).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(BadRequestError)
    const details = (error as BadRequestError).details as { issues: { path: string; message: string }[] }
    expect(details.issues.map((issue) => issue.path)).toEqual(['title', 'due.day', 'tags.1'])
    for (const issue of details.issues) expect(issue.message).not.toBe('')
    expect((error as BadRequestError).message).toMatch(/^Invalid input: title: .+; due\.day: .+; tags\.1: .+$/)
    expect(func).not.toHaveBeenCalled()
  })

  it('input that is not an object at all is a BadRequestError for the input as a whole', async () => {
    const fn = pikkuSessionlessFunc({ func: async () => 'ran', input: CreateTodo, auth: false })
    const error = await runner.run(fn, 'not an object', anonymousWire()).catch((e: unknown) => e)
    expect((error as BadRequestError).details).toEqual({ issues: [{ path: '', message: expect.any(String) }] })
  })

  it('an unauthenticated call is refused before its input is looked at', async () => {
    const fn = pikkuFunc({ func: async () => 'ran', input: CreateTodo })
    await expect(runner.run(fn, { title: '' }, anonymousWire())).rejects.toMatchObject({ code: 'UNAUTHORIZED' })
  })

  it('inputJsonSchema derives JSON Schema from a zod schema for MCP tools and CLI flags', () => {
    const schema = inputJsonSchema(CreateTodo)
    expect(schema).toMatchObject({
      type: 'object',
      properties: {
        title: { type: 'string', minLength: 1 },
        due: { type: 'object', properties: { day: { type: 'integer', minimum: 1, maximum: 31 } } },
        tags: { type: 'array', items: { type: 'string' } },
      },
      required: ['title'],
    })
    expect(inputJsonSchema(undefined)).toBeUndefined()
  })

  it('inputJsonSchema is undefined for a Standard Schema that cannot describe itself', () => {
    const opaque = { '~standard': { version: 1 as const, vendor: 'custom', validate: (value: unknown) => ({ value }) } }
    expect(inputJsonSchema(opaque)).toBeUndefined()
  })
})
