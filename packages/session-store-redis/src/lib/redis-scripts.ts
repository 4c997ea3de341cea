import { createHash } from 'node:crypto'

/** A Lua script run with EVALSHA (falling back to EVAL once after a server restart). */
export interface LuaScript {
  readonly source: string
  readonly sha1: string
}

function lua(source: string): LuaScript {
  return { source, sha1: createHash('sha1').update(source).digest('hex') }
}

// Record hash fields: u = userId, d = data JSON, v = version, c = createdAt, a = lastActiveAt,
// e = expiresAt. Every script receives the caller's clock as `now`, so expiry follows the store's
// clock (the Redis TTL only reclaims memory) and tests can move time without sleeping.

/**
 * KEYS[1] record. ARGV: userId, json, version, createdAt, lastActiveAt, expiresAt, ttlMs, now.
 * Writes the whole record and returns the previous owner when a live record of another user was
 * replaced, so the caller can drop it from that user's index.
 */
export const setRecord = lua(`
local previous = redis.call('HMGET', KEYS[1], 'u', 'e')
redis.call('HSET', KEYS[1], 'u', ARGV[1], 'd', ARGV[2], 'v', ARGV[3], 'c', ARGV[4], 'a', ARGV[5], 'e', ARGV[6])
redis.call('PEXPIRE', KEYS[1], ARGV[7])
if previous[1] and previous[1] ~= ARGV[1] then
  if tonumber(previous[2]) > tonumber(ARGV[8]) then return {previous[1], 1} end
  return {previous[1], 0}
end
return false
`)

/**
 * KEYS[1] record. ARGV: expectedVersion, userId, json, lastActiveAt, expiresAt, ttlMs, now,
 * nextVersion. The compare-and-set: one script, so no other writer can slip in between the
 * version check and the write.
 */
export const updateRecord = lua(`
local current = redis.call('HMGET', KEYS[1], 'u', 'v', 'e')
if not current[1] or tonumber(current[3]) <= tonumber(ARGV[7]) then return 'missing' end
if current[2] ~= ARGV[1] then return 'conflict' end
if current[1] ~= ARGV[2] then return 'owner' end
redis.call('HSET', KEYS[1], 'd', ARGV[3], 'v', ARGV[8], 'a', ARGV[4], 'e', ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
return 'ok'
`)

/**
 * KEYS[1] record. ARGV: userId, lastActiveAt, expiresAt, ttlMs, now. Moves expiry of a live
 * record of that user; returns its version, or false.
 */
export const touchRecord = lua(`
local current = redis.call('HMGET', KEYS[1], 'u', 'v', 'e')
if not current[1] or current[1] ~= ARGV[1] or tonumber(current[3]) <= tonumber(ARGV[5]) then return false end
redis.call('HSET', KEYS[1], 'a', ARGV[2], 'e', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return current[2]
`)

/**
 * KEYS[1] record. ARGV: now, checkOwner ('1' or '0'), owner. Deletes the record (expired or
 * not, but only the given owner's when checkOwner is '1'); returns its owner when it was live.
 */
export const deleteRecord = lua(`
local current = redis.call('HMGET', KEYS[1], 'u', 'e')
if not current[1] then return false end
if ARGV[2] == '1' and current[1] ~= ARGV[3] then return false end
redis.call('DEL', KEYS[1])
if tonumber(current[2]) <= tonumber(ARGV[1]) then return false end
return current[1]
`)

// The per-user index scores each id with an upper bound of its record's expiry. Members are
// trimmed once their score has passed (ZREMRANGEBYSCORE), and the key's own TTL is its highest
// score, so an index never outlives its newest session and never keeps stale members forever.
const trimAndExpire = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local newest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if newest[2] then
  redis.call('PEXPIRE', KEYS[1], math.max(1, math.floor(tonumber(newest[2]) - tonumber(ARGV[1]))))
end
`

/**
 * KEYS[1] user index. ARGV: now, id, expiresAt, mode ('add' or 'extend'). GT keeps the highest
 * expiry ever written for an id, so the score stays an upper bound even when writes race; 'extend'
 * (XX) never adds an id that is not indexed yet.
 */
export const indexAdd = lua(`
if ARGV[4] == 'extend' then
  redis.call('ZADD', KEYS[1], 'XX', 'GT', ARGV[3], ARGV[2])
else
  redis.call('ZADD', KEYS[1], 'GT', ARGV[3], ARGV[2])
end
${trimAndExpire}
return 1
`)

/** KEYS[1] user index. ARGV: now, then ids to remove. Returns the remaining live-scored ids. */
export const indexList = lua(`
if #ARGV > 1 then redis.call('ZREM', KEYS[1], unpack(ARGV, 2)) end
${trimAndExpire}
return redis.call('ZRANGE', KEYS[1], 0, -1)
`)
