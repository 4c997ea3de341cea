import type { createClient } from 'redis'

/** Deletes the keys a run created under `prefix`, instead of leaving them for their TTL. */
export async function removeRedisKeys(client: ReturnType<typeof createClient>, prefix: string): Promise<void> {
  for await (const batch of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) if (batch.length > 0) await client.del(batch)
}
