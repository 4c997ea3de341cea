// A small app for the CLI tests: five functions like the documentation's, a JSON-file session
// store (so a login survives between CLI processes) and a clock set from the environment.
import { readFileSync, writeFileSync, renameSync } from 'node:fs'
import {
  createRunner,
  createSessionManager,
  pikkuFunc,
  pikkuSessionlessFunc,
  silentLogger,
  UnauthorizedError,
} from '@pikku/core'
import { createSessionEventBus } from '@pikku/core/store'

/** A Standard Schema for a flat object, written by hand so the fixture needs no schema library. */
function objectSchema(properties, required = []) {
  return {
    '~standard': {
      version: 1,
      vendor: 'fixture',
      validate(value) {
        if (typeof value !== 'object' || value === null || Array.isArray(value)) {
          return { issues: [{ message: 'Expected an object' }] }
        }
        const issues = []
        for (const name of required) {
          if (value[name] === undefined) issues.push({ message: 'Required', path: [name] })
        }
        for (const [name, spec] of Object.entries(properties)) {
          const field = value[name]
          if (field === undefined) continue
          const type = spec.type === 'integer' ? 'number' : spec.type
          if (type === 'array') {
            if (!Array.isArray(field)) issues.push({ message: 'Expected a list', path: [name] })
          } else if (typeof field !== type || (spec.type === 'integer' && !Number.isInteger(field))) {
            issues.push({ message: `Expected ${spec.type}`, path: [name] })
          } else if (spec.enum !== undefined && !spec.enum.includes(field)) {
            issues.push({ message: `Expected one of ${spec.enum.join(', ')}`, path: [name] })
          }
        }
        return issues.length > 0 ? { issues } : { value }
      },
      jsonSchema: {
        input: () => ({ type: 'object', properties, required }),
        output: () => ({ type: 'object', properties, required }),
      },
    },
  }
}

/** The schema, with no input at all accepted as `{}` (a logout called without a body). */
function optional(schema) {
  const standard = schema['~standard']
  return { '~standard': { ...standard, validate: (value) => (value === undefined ? { value: {} } : standard.validate(value)) } }
}

const users = {
  'alice@example.com': { id: 'u-alice', password: 'alice-password', name: 'Alice' },
  'bob@example.com': { id: 'u-bob', password: 'bob-password', name: 'Bob' },
}

export const login = pikkuSessionlessFunc({
  name: 'login',
  input: objectSchema(
    { email: { type: 'string', description: 'Your email address' }, password: { type: 'string' } },
    ['email', 'password'],
  ),
  func: async (services, data, { session }) => {
    const user = users[data.email]
    if (user === undefined || user.password !== data.password) throw new UnauthorizedError('Invalid credentials')
    await session.set({ userId: user.id, email: data.email, name: user.name })
    return { token: services.sessionToken(), user: { id: user.id, email: data.email } }
  },
  docs: { summary: 'Log in with email and password', tags: ['auth'], errors: ['UNAUTHORIZED', 'BAD_REQUEST'] },
})

export const logout = pikkuFunc({
  name: 'logout',
  input: optional(objectSchema({ all: { type: 'boolean', description: 'Also end every other session of yours' } })),
  func: async (_services, data, { session }) => {
    // `all`: the other sessions end first, while this one still says who the user is.
    const revokedOthers = data?.all === true ? await session.revokeOthers() : undefined
    await session.clear()
    return revokedOthers === undefined ? { success: true } : { success: true, revokedOthers }
  },
  docs: { summary: 'Log out' },
})

/** A logout from before `all` existed: it ignores the field (the server of an older app version). */
export const legacyLogout = pikkuFunc({
  name: 'legacyLogout',
  func: async (_services, _data, { session }) => {
    await session.clear()
    return { success: true }
  },
  docs: { summary: 'Log out (without all)' },
})

export const whoami = pikkuFunc({
  name: 'whoami',
  func: async (_services, _data, { session }) => {
    const user = await session.get()
    return { userId: user.userId, email: user.email, name: user.name, theme: user.theme ?? 'light' }
  },
  docs: { summary: 'Show the logged-in user', description: 'Reads the session; requires a login.' },
})

export const publicData = pikkuSessionlessFunc({
  name: 'publicData',
  func: async (_services, _data, { session }) => {
    const user = await session.get()
    return { greeting: user === undefined ? 'Hello, guest' : `Hello, ${user.name}` }
  },
  docs: { summary: 'Public data, personalised when logged in' },
})

export const preferences = pikkuFunc({
  name: 'preferences',
  input: objectSchema({
    theme: { type: 'string', enum: ['light', 'dark'], description: 'Colour theme' },
    fontSize: { type: 'integer', description: 'Font size in points' },
    tags: { type: 'array', items: { type: 'string' } },
    compact: { type: 'boolean', description: 'Dense layout' },
  }),
  func: async (_services, data, { session }) => {
    const next = await session.update(data)
    return { theme: next.theme, fontSize: next.fontSize, tags: next.tags, compact: next.compact }
  },
  docs: { summary: 'Update preferences', tags: ['user'] },
})

export const wait = pikkuSessionlessFunc({
  name: 'wait',
  input: objectSchema({ ms: { type: 'integer', description: 'How long to wait' } }),
  func: async (_services, data, wire) =>
    new Promise((resolve, reject) => {
      // Tells the process tests the command is running (so they can interrupt it).
      if (process.env.FIXTURE_ANNOUNCE_WAIT === '1') process.stdout.write('waiting\n')
      const timer = setTimeout(() => resolve({ waited: data.ms ?? 0 }), data.ms ?? 0)
      wire.cli?.signal.addEventListener('abort', () => {
        clearTimeout(timer)
        reject(new Error('aborted'))
      })
    }),
  docs: { summary: 'Wait (for cancellation tests)' },
})

export const crash = pikkuSessionlessFunc({
  name: 'crash',
  func: async () => {
    throw new Error('secret internal detail')
  },
  docs: { summary: 'Fail with an internal error' },
})

export const functions = { login, logout, legacyLogout, whoami, publicData, preferences, wait, crash }

/** A session store kept in one JSON file, rewritten atomically on every change. */
export function createJsonFileStore(path, clock) {
  const events = createSessionEventBus()
  const read = () => {
    try {
      return JSON.parse(readFileSync(path, 'utf8'))
    } catch {
      return {}
    }
  }
  const write = (records) => {
    writeFileSync(`${path}.tmp`, JSON.stringify(records))
    renameSync(`${path}.tmp`, path)
  }
  const live = (record) => (record !== undefined && record.expiresAt > clock() ? record : undefined)
  return {
    async get(id) {
      return live(read()[id])
    },
    async set(record) {
      const records = read()
      records[record.id] = record
      write(records)
    },
    async update(id, expectedVersion, change) {
      const records = read()
      const record = live(records[id])
      if (record === undefined) return 'missing'
      if (record.version !== expectedVersion) return 'conflict'
      records[id] = { ...record, ...change, version: record.version + 1 }
      write(records)
      return 'ok'
    },
    async touch(id, lastActiveAt, expiresAt) {
      const records = read()
      const record = live(records[id])
      if (record === undefined) return false
      records[id] = { ...record, lastActiveAt, expiresAt }
      write(records)
      return true
    },
    async delete(id) {
      const records = read()
      const existed = live(records[id]) !== undefined
      delete records[id]
      write(records)
      return existed
    },
    async listByUser(userId) {
      return Object.values(read()).filter((record) => record.userId === userId && live(record))
    },
    async deleteByUser(userId, options) {
      const records = read()
      let count = 0
      for (const [id, record] of Object.entries(records)) {
        if (record.userId === userId && id !== options?.except) {
          delete records[id]
          count++
        }
      }
      write(records)
      return count
    },
    subscribe(listener) {
      return events.subscribe(listener)
    },
  }
}

export function createFixtureApp({ store, clock }) {
  const sessions = createSessionManager({ store, clock, idleTimeout: 60 * 60 * 1000, absoluteTimeout: 24 * 60 * 60 * 1000 })
  const runner = createRunner({
    services: {},
    logger: silentLogger,
    wireServices: (_services, wire) => ({ sessionToken: () => wire.session.pending?.token }),
  })
  return { runner, sessions }
}
