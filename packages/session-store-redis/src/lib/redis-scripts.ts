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
// e = expiresAt, m = metadata JSON (absent for a session stored without it). Every script receives the caller's clock as `now`, so expiry follows the store's
// clock (the Redis TTL only reclaims memory) and tests can move time without sleeping.

// The scripts that write a record also publish its `changed` event, in the same round trip and
// only once the write happened. Their first three arguments are the event channel and the message
// split around its version (see redis-event-message.ts); the script puts in the version it wrote or
// read. The channel is not a key, so PUBLISH here is allowed on a Cluster (which forwards it to every
// node). It runs with pcall: a refused PUBLISH (an ACL user without rights on the channel) must not
// turn an applied write into an error the caller would retry; its message is returned instead, and
// '' when the event went out.
const publishEvent = `
local function publishEvent(channel, message)
  local sent = redis.pcall('PUBLISH', channel, message)
  if type(sent) == 'table' and sent.err then return sent.err end
  return ''
end
`
const publishChanged = `${publishEvent}
local function publishChanged(version)
  return publishEvent(ARGV[1], ARGV[2] .. version .. ARGV[3])
end
`

/**
 * KEYS[1] record. ARGV: channel, messageHead, messageTail, userId, json, version, createdAt,
 * lastActiveAt, expiresAt, ttlMs, now, metadata JSON ('' for none). Writes the whole record and returns `{publishError}`, or
 * `{publishError, previousOwner, 0}` when an expired record of another user was replaced (the
 * caller drops it from that user's index). When a live record of another user was replaced it
 * returns `{'', previousOwner, 1}` and publishes nothing: that user's `deleted` event must reach
 * subscribers before this `changed` one, and only the caller can send it.
 */
export const setRecord = lua(`${publishChanged}
local previous = redis.call('HMGET', KEYS[1], 'u', 'e')
redis.call('HSET', KEYS[1], 'u', ARGV[4], 'd', ARGV[5], 'v', ARGV[6], 'c', ARGV[7], 'a', ARGV[8], 'e', ARGV[9])
if ARGV[12] == '' then redis.call('HDEL', KEYS[1], 'm') else redis.call('HSET', KEYS[1], 'm', ARGV[12]) end
redis.call('PEXPIRE', KEYS[1], ARGV[10])
if previous[1] and previous[1] ~= ARGV[4] then
  if (tonumber(previous[2]) or 0) > tonumber(ARGV[11]) then return {'', previous[1], 1} end
  return {publishChanged(ARGV[6]), previous[1], 0}
end
return {publishChanged(ARGV[6])}
`)

/**
 * KEYS[1] record. ARGV: channel, messageHead, messageTail, expectedVersion, userId, json,
 * lastActiveAt, expiresAt, ttlMs, now, nextVersion, metadata JSON ('' to keep the record's). The compare-and-set: one script, so no other
 * writer can slip in between the version check and the write. Returns `{'missing'}`,
 * `{'conflict'}`, `{'owner'}` (nothing written, nothing published) or `{'ok', publishError}`.
 */
export const updateRecord = lua(`${publishChanged}
local current = redis.call('HMGET', KEYS[1], 'u', 'v', 'e')
if not current[1] or tonumber(current[3]) <= tonumber(ARGV[10]) then return {'missing'} end
if current[2] ~= ARGV[4] then return {'conflict'} end
if current[1] ~= ARGV[5] then return {'owner'} end
redis.call('HSET', KEYS[1], 'd', ARGV[6], 'v', ARGV[11], 'a', ARGV[7], 'e', ARGV[8])
if ARGV[12] ~= '' then redis.call('HSET', KEYS[1], 'm', ARGV[12]) end
redis.call('PEXPIRE', KEYS[1], ARGV[9])
return {'ok', publishChanged(ARGV[11])}
`)

/**
 * KEYS[1] record. ARGV: channel, messageHead, messageTail, userId, lastActiveAt, expiresAt, ttlMs,
 * now. Moves expiry of a live record of that user; returns `{version, publishError}`, or false
 * (nothing written, nothing published).
 */
export const touchRecord = lua(`${publishChanged}
local current = redis.call('HMGET', KEYS[1], 'u', 'v', 'e')
if not current[1] or not current[2] or current[1] ~= ARGV[4] or tonumber(current[3]) <= tonumber(ARGV[8]) then return false end
redis.call('HSET', KEYS[1], 'a', ARGV[5], 'e', ARGV[6])
redis.call('PEXPIRE', KEYS[1], ARGV[7])
return {current[2], publishChanged(current[2])}
`)

/**
 * KEYS[1] record. ARGV: now, checkOwner ('1' or '0'), owner, channel, messageHead, messageTail.
 * Deletes the record (expired or not, but only the given owner's when checkOwner is '1'). When it
 * was live, publishes its `deleted` event in the same script (the message is `head + owner as JSON
 * + tail`, see redis-event-message.ts) and returns `{owner, publishError}`: a revocation is never
 * without its event, even if the process stops right after Redis ran it. An expired record goes
 * silently (every reader refuses it by its own expiry) and the script returns false.
 */
export const deleteRecord = lua(`${publishEvent}
local current = redis.call('HMGET', KEYS[1], 'u', 'e')
if not current[1] then return false end
if ARGV[2] == '1' and current[1] ~= ARGV[3] then return false end
redis.call('DEL', KEYS[1])
if tonumber(current[2]) <= tonumber(ARGV[1]) then return false end
return {current[1], publishEvent(ARGV[4], ARGV[5] .. cjson.encode(current[1]) .. ARGV[6])}
`)

// The per-user index scores each id with an upper bound of its record's expiry. Members are
// trimmed once their score has passed (ZREMRANGEBYSCORE), and the key's own TTL is its highest
// score, so an index never outlives its newest session and never keeps stale members forever.
const trimIndex = `
local function trimIndex(key, now)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  local newest = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  if newest[2] then
    redis.call('PEXPIRE', key, math.max(1, math.floor(tonumber(newest[2]) - tonumber(now))))
  end
end
`

/**
 * KEYS[1] user index. ARGV: now, id, expiresAt, mode ('add' or 'extend'). GT keeps the highest
 * expiry ever written for an id, so the score stays an upper bound even when writes race; 'extend'
 * (XX) never adds an id that is not indexed yet.
 */
export const indexAdd = lua(`${trimIndex}
if ARGV[4] == 'extend' then
  redis.call('ZADD', KEYS[1], 'XX', 'GT', ARGV[3], ARGV[2])
else
  redis.call('ZADD', KEYS[1], 'GT', ARGV[3], ARGV[2])
end
trimIndex(KEYS[1], ARGV[1])
return 1
`)

/** KEYS[1] user index. ARGV: now, then ids to remove. Returns the remaining live-scored ids. */
export const indexList = lua(`${trimIndex}
if #ARGV > 1 then redis.call('ZREM', KEYS[1], unpack(ARGV, 2)) end
trimIndex(KEYS[1], ARGV[1])
return redis.call('ZRANGE', KEYS[1], 0, -1)
`)

/**
 * KEYS[1] record, KEYS[2] its user's index. ARGV: as updateRecord, then the record's id. The
 * versioned update of a single Redis node in one round trip: the same checks as updateRecord, then
 * the index entry extended (as indexAdd 'extend') and the record written, atomically, so the index
 * never lags its record. Not for a Cluster, where the two keys live in different slots.
 */
export const updateIndexedRecord = lua(`${publishChanged}${trimIndex}
local current = redis.call('HMGET', KEYS[1], 'u', 'v', 'e')
if not current[1] or tonumber(current[3]) <= tonumber(ARGV[10]) then return {'missing'} end
if current[2] ~= ARGV[4] then return {'conflict'} end
if current[1] ~= ARGV[5] then return {'owner'} end
redis.call('ZADD', KEYS[2], 'XX', 'GT', ARGV[8], ARGV[13])
trimIndex(KEYS[2], ARGV[10])
redis.call('HSET', KEYS[1], 'd', ARGV[6], 'v', ARGV[11], 'a', ARGV[7], 'e', ARGV[8])
if ARGV[12] ~= '' then redis.call('HSET', KEYS[1], 'm', ARGV[12]) end
redis.call('PEXPIRE', KEYS[1], ARGV[9])
return {'ok', publishChanged(ARGV[11])}
`)
