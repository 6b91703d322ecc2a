-- KEYS: meta q x d subs g leasing
-- ARGV: now limit deadline owner prefix name
-- Leases up to limit messages from the head of the backlog until deadline (docs/scale-out.md "Leases"): they leave the
-- backlog (q) and the expiry index (x) but keep their blob in d and their bytes; l (lease id -> deadline), lm (id ->
-- "score|member") and lo (id -> owner, '' for none) hold the lease; dc (member -> delivery count) survives it.
-- Returns {epoch, '#dc|' .. blob...}; {''} for a channel that does not exist.
local meta, q, x, d, g, leasing = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[6], KEYS[7]
local now = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local deadline = tonumber(ARGV[3])
local owner = ARGV[4]
local p = ARGV[5]
if redis.call('EXISTS', meta) == 0 then
  return {''}
end
prune(meta, q, x, d, g, now)
local epoch = redis.call('HGET', meta, 'epoch')
local members = redis.call('ZRANGE', q, 0, limit - 1, 'WITHSCORES')
if #members == 0 then
  return {epoch}
end
local out = {epoch}
local n = 0
for i = 1, #members, 2 do
  local member, score = members[i], members[i + 1]
  local blob = redis.call('HGET', d, member)
  local id = string.match(blob, '^%d+|%d+|%d+|%d+|%d+|(%x+)|')
  local dc = redis.call('HGET', p .. 'dc', member) or '0'
  redis.call('ZREM', q, member)
  redis.call('ZREM', x, member)
  redis.call('ZADD', p .. 'l', deadline, id)
  redis.call('HSET', p .. 'lm', id, score .. '|' .. member)
  redis.call('HSET', p .. 'lo', id, owner)
  out[#out + 1] = '#' .. dc .. '|' .. blob
  n = n + 1
end
redis.call('HINCRBY', meta, 'leased', n)
redis.call('HINCRBY', meta, 'inflight', n)
redis.call('HINCRBY', g, 'leased', n)
redis.call('HINCRBY', g, 'inflight', n)
local first = redis.call('ZRANGE', p .. 'l', 0, 0, 'WITHSCORES')
redis.call('ZADD', leasing, first[2], ARGV[6])
return out
