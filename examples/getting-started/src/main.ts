import { createServer } from 'node:http'
import { toNodeListener } from '@pikku/http'
import { createApp } from './app.js'
import { hashPassword } from './passwords.js'

const app = createApp({
  secrets: [process.env['JWT_SECRET'] ?? 'dev-only-secret-dev-only-secret-000'],
  users: [{ id: 'u1', email: 'ada@example.com', role: 'user', permissions: [], passwordHash: await hashPassword('ada-password') }],
  // Plain http://localhost only; leave this out behind HTTPS.
  secureCookies: process.env['NODE_ENV'] === 'production',
})
createServer(toNodeListener(app)).listen(3000, '127.0.0.1')
