import type { Request } from 'express'
import { expectTypeOf } from 'vitest'
import type {} from '../index.js'

interface AppSession {
  userId: string
  email: string
  plan: 'free' | 'pro'
}

declare module '@pikku/core' {
  interface Register {
    userSession: AppSession
  }
}

declare const req: Request

// req.userSession is typed with the app's registered session.
expectTypeOf(req.userSession.get()).resolves.toEqualTypeOf<AppSession | undefined>()
expectTypeOf(req.userSession.update({ plan: 'pro' })).resolves.toEqualTypeOf<AppSession>()
// @ts-expect-error plan must be 'free' or 'pro'
void req.userSession.update({ plan: 'enterprise' })
// @ts-expect-error a session needs its email
void req.userSession.set({ userId: 'u-1', plan: 'free' })
