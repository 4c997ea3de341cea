import type { HTTPWireInfo } from './http-wire.js'
import type { IncomingHTTP } from './incoming.js'

// Header names are nearly always the same few constants: remember the last one lowered.
let lastName = ''
let lastLower = ''
function lowerCase(name: string): string {
  if (name !== lastName) {
    lastLower = name.toLowerCase()
    lastName = name
  }
  return lastLower
}

/** The `wire.http` of one call: the request as middleware sees it, and the headers it sets. */
export class WireInfo implements HTTPWireInfo {
  status: number | undefined = undefined
  headers: [string, string][] | undefined = undefined

  constructor(
    readonly method: string,
    readonly path: string,
    readonly params: Readonly<Record<string, string>>,
    readonly secure: boolean,
    private readonly request: IncomingHTTP,
  ) {}

  get origin(): string | undefined {
    return this.request.origin()
  }

  get localAddress(): string | undefined {
    return this.request.localAddress
  }

  header(name: string): string | undefined {
    return this.request.header(name)
  }

  setHeader(name: string, value: string): void {
    const lower = lowerCase(name)
    const headers = this.headers
    if (headers === undefined) {
      // The common case: a session middleware sets Cache-Control and nothing else.
      this.headers = [[lower, value]]
      return
    }
    // Replace in place.
    let kept = 0
    for (const header of headers) if (header[0] !== lower) headers[kept++] = header
    headers.length = kept
    headers.push([lower, value])
  }

  appendHeader(name: string, value: string): void {
    ;(this.headers ??= []).push([lowerCase(name), value])
  }
}
