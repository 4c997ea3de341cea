import { describe, expect, it } from 'vitest'
import { formatHuman } from './human-output.js'

describe('human-readable results', () => {
  it('aligns keys and indents nested values', () => {
    expect(formatHuman({ id: 'u1', email: 'a@b.c', preferences: { theme: 'dark' }, tags: ['x', 'y'] })).toBe(
      ['id:    u1', 'email: a@b.c', 'preferences:', '  theme: dark', 'tags:', '  - x', '  - y'].join('\n'),
    )
  })

  it('says Done. for an empty result and shows empty containers', () => {
    expect(formatHuman(undefined)).toBe('Done.')
    expect(formatHuman(null)).toBe('Done.')
    expect(formatHuman({})).toBe('(empty)')
    expect(formatHuman([])).toBe('(none)')
    expect(formatHuman({ list: [], map: {} })).toBe('list: (none)\nmap:  (empty)')
  })

  it('prints scalars as they are, and multi-line strings quoted on one line', () => {
    expect(formatHuman('hello')).toBe('hello')
    expect(formatHuman(42)).toBe('42')
    expect(formatHuman({ text: 'a\nb' })).toBe('text: "a\\nb"')
  })

  it('lists objects inside arrays', () => {
    expect(formatHuman([{ a: 1 }, 2])).toBe('-\n  a: 1\n- 2')
  })
})
