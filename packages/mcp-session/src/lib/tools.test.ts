import { pikkuFunc, pikkuSessionlessFunc } from '@pikku/core'
import { z } from 'zod'
import { describe, expect, it } from 'vitest'
import { wireMCP } from './tools.js'

const hello = pikkuSessionlessFunc<{ name: string }, string>({
  name: 'hello',
  input: z.object({ name: z.string().describe('Who to greet') }),
  func: (_services, data) => `Hello, ${data.name}`,
  docs: { summary: 'Say hello', description: 'Greets someone by name.' },
})
const secret = pikkuFunc<void, string>({ func: () => 'psst' })

describe('wireMCP', () => {
  it('names a tool after the function, else after its key, and lets the name be overridden', () => {
    const mcp = wireMCP({ tools: { greet: hello, secret, other: { func: hello, name: 'hello_again', description: 'Another greeting.' } } })
    expect([...mcp.tools.keys()]).toEqual(['hello', 'secret', 'hello_again'])
    expect(mcp.tools.get('hello_again')?.description).toBe('Another greeting.')
  })

  it('describes a tool from the docs and says when it needs a session', () => {
    const mcp = wireMCP({ tools: { hello, secret } })
    expect(mcp.tools.get('hello')).toMatchObject({ title: 'Say hello', description: 'Say hello\n\nGreets someone by name.' })
    expect(mcp.tools.get('secret')?.description).toBe('Requires a logged-in session.')
    // No input schema: any object, said outright rather than as an empty property list.
    expect(mcp.tools.get('secret')?.inputSchema).toEqual({ type: 'object', additionalProperties: true })
    expect(mcp.tools.get('hello')?.inputSchema).toMatchObject({
      type: 'object',
      properties: { name: { type: 'string', description: 'Who to greet' } },
      required: ['name'],
    })
  })

  it('refuses duplicate names, names MCP does not allow and an empty tool list when called', () => {
    expect(() => wireMCP({ tools: { a: hello, b: hello } })).toThrow('two tools are named "hello"')
    expect(() => wireMCP({ tools: { a: { func: hello, name: 'has space' } } })).toThrow('tool name "has space"')
    expect(() => wireMCP({ tools: {} })).toThrow('tools is empty')
    expect(() => wireMCP({ tools: { a: (() => 1) as never } })).toThrow('tools.a must be a function from pikkuFunc')
  })

  it('uses the server name and version for serverInfo', () => {
    expect(wireMCP({ tools: { hello } }).serverInfo).toEqual({ name: 'pikku', version: '0.0.0' })
    expect(wireMCP({ tools: { hello }, name: 'app', version: '2.0.0' }).serverInfo).toEqual({ name: 'app', version: '2.0.0' })
  })
})
