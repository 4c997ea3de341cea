import { describe, expect, it } from 'vitest'
import { convertFlag, flagsFromSchema, parseArgsOptions, toFlagName } from './input-flags.js'

// The JSON Schemas below are what zod 4's Standard JSON Schema produces for common inputs.
const schema = {
  type: 'object',
  properties: {
    email: { type: 'string', format: 'email', description: 'Your email' },
    theme: { type: 'string', enum: ['light', 'dark'] },
    fontSize: { type: 'integer', default: 12 },
    ratio: { type: 'number' },
    compact: { type: 'boolean' },
    tags: { type: 'array', items: { type: 'string' } },
    scores: { type: 'array', items: { type: 'number' } },
    nickname: { type: ['string', 'null'] },
    mode: { anyOf: [{ type: 'string', enum: ['a', 'b'] }, { type: 'null' }] },
    nested: { type: 'object', properties: { a: { type: 'string' } } },
    either: { anyOf: [{ type: 'string' }, { type: 'number' }] },
    'not a flag': { type: 'string' },
  },
  required: ['email'],
}

describe('flags from an input schema', () => {
  const flags = flagsFromSchema(schema)
  const byField = (field: string) => flags.find((flag) => flag.field === field)

  it('names flags in kebab case and keeps descriptions, defaults and required fields', () => {
    expect(byField('email')).toEqual({ field: 'email', flag: 'email', kind: 'string', required: true, description: 'Your email' })
    expect(byField('fontSize')).toEqual({ field: 'fontSize', flag: 'font-size', kind: 'integer', required: false, defaultValue: 12 })
  })

  it('derives kinds from types, enums, nullable types and unions', () => {
    expect(byField('theme')).toMatchObject({ kind: 'string', choices: ['light', 'dark'] })
    expect(byField('ratio')?.kind).toBe('number')
    expect(byField('compact')?.kind).toBe('boolean')
    expect(byField('tags')?.kind).toBe('string-list')
    expect(byField('scores')?.kind).toBe('number-list')
    expect(byField('nickname')?.kind).toBe('string')
    expect(byField('mode')).toMatchObject({ kind: 'string', choices: ['a', 'b'] })
    expect(byField('nested')?.kind).toBe('json')
    expect(byField('either')?.kind).toBe('json')
  })

  it('skips fields whose names cannot be flags', () => {
    expect(byField('not a flag')).toBeUndefined()
  })

  it('has no flags without an object schema', () => {
    expect(flagsFromSchema(undefined)).toEqual([])
    expect(flagsFromSchema({ type: 'string' })).toEqual([])
  })

  it('gives booleans a --no- form and lists repeatable flags', () => {
    const options = parseArgsOptions(flags)
    expect(options['compact']).toEqual({ type: 'boolean' })
    expect(options['no-compact']).toEqual({ type: 'boolean' })
    expect(options['tags']).toEqual({ type: 'string', multiple: true })
    expect(options['font-size']).toEqual({ type: 'string' })
  })

  it('converts text to the field type, leaving what does not convert for the schema to report', () => {
    expect(convertFlag(byField('fontSize')!, '14')).toBe(14)
    expect(convertFlag(byField('fontSize')!, 'ten')).toBe('ten')
    expect(convertFlag(byField('fontSize')!, '')).toBe('')
    expect(convertFlag(byField('scores')!, ['1', '2.5'])).toEqual([1, 2.5])
    expect(convertFlag(byField('tags')!, ['a'])).toEqual(['a'])
    expect(convertFlag(byField('nested')!, '{"a":"x"}')).toEqual({ a: 'x' })
    expect(convertFlag(byField('either')!, 'word')).toBe('word')
    expect(() => convertFlag(byField('nested')!, '{broken')).toThrow(/--nested takes JSON/)
  })

  it('kebab-cases camelCase and snake_case', () => {
    expect(toFlagName('userId')).toBe('user-id')
    expect(toFlagName('max_items')).toBe('max-items')
    expect(toFlagName('HTMLMode')).toBe('htmlmode')
  })
})
