'use server'
import { redirect } from 'next/navigation'
import { getSession } from '../../lib/session'

export async function savePreferences(form: FormData): Promise<void> {
  const session = await getSession()
  await session.update({ preferences: { theme: String(form.get('theme')) } })
  redirect('/about')
}
