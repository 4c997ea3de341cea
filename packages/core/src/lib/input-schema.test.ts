import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { BadRequestError } from './errors.js'
import { validateInput } from './input-schema.js'

const Todo = z.object({
  title: z.string().min(1).max(200),
  done: z.boolean().default(false),
  due: z.iso.date().optional(),
  tags: z.array(z.string().max(20)).max(10).optional(),
  assignee: z.object({ id: z.uuid(), name: z.string() }).nullable().optional(),
})

describe('validateInput with untrusted input', () => {
  it('never throws anything but BadRequestError, whatever the data', async () => {
    await fc.assert(
      fc.asyncProperty(fc.anything({ withBigInt: true, withDate: true, withMap: true, withSet: true, withTypedArray: true, withNullPrototype: true }), async (data) => {
        try {
          const parsed = await validateInput(Todo, data)
          expect(Todo.safeParse(parsed).success).toBe(true)
        } catch (error) {
          expect(error).toBeInstanceOf(BadRequestError)
          const issues = (error as BadRequestError).details as { issues: { path: string; message: string }[] }
          expect(issues.issues.length).toBeGreaterThan(0)
        }
      }),
    )
  })

  it('never throws anything but BadRequestError for JSON that looks like the input', async () => {
    const nearlyTodo = fc.record(
      {
        title: fc.oneof(fc.string(), fc.jsonValue()),
        done: fc.oneof(fc.boolean(), fc.jsonValue()),
        due: fc.oneof(fc.string(), fc.jsonValue()),
        tags: fc.oneof(fc.array(fc.string()), fc.jsonValue()),
        assignee: fc.oneof(fc.record({ id: fc.uuid(), name: fc.string() }), fc.jsonValue()),
      },
      { requiredKeys: [] },
    )
    await fc.assert(
      fc.asyncProperty(nearlyTodo, async (data) => {
        await validateInput(Todo, data).catch((error: unknown) => expect(error).toBeInstanceOf(BadRequestError))
      }),
    )
  })
})
