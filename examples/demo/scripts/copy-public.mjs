// The login page is a static file; tsc does not copy it.
import { cpSync } from 'node:fs'

cpSync(new URL('../src/public', import.meta.url), new URL('../dist/public', import.meta.url), { recursive: true })
