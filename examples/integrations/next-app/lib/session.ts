import 'server-only'
import { createNextSessions } from '@pikku/next'
import { httpSessions } from '../../src/pikku'

// getSession() in server components, server actions and route handlers.
export const { getSession } = createNextSessions({ sessions: httpSessions })
