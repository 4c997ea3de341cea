import type { ReactElement } from 'react'
import { getSession } from '../../lib/session'
import { savePreferences } from './actions'

// A server component reading the session, and a form whose server action changes it.
export default async function About(): Promise<ReactElement> {
  const session = await (await getSession()).get()
  return (
    <main>
      <p id="user">{session === undefined ? 'Not signed in' : `Signed in as ${session.email}`}</p>
      <p id="theme">{String(session?.preferences['theme'] ?? 'none')}</p>
      <form action={savePreferences}>
        <input name="theme" defaultValue="dark" />
        <button type="submit">Save</button>
      </form>
    </main>
  )
}
