-- KEYS: meta q x d subs g leasing
-- ARGV: now cap max_deliveries mode arg prefix name notify [id deadline]...
-- Ends leases (docs/scale-out.md "Leases"), atomically, so nodes expiring at once count each once. mode 'due': those whose
-- deadline is at or before now; 'owner': every lease of owner arg; 'unlease': the given (id, deadline) leases still out
-- (a put-back: not a delivery). A delivery's end counts one more in dc: at max_deliveries the message leaves the channel
-- and its blob is returned for the dead-letter channel; otherwise it returns to the backlog at its old score (seq order).
-- Expired ones count as expired. Then the capacity rule drops the oldest. Returns {restored, expired, dropped,
-- next_deadline, dead_blob, dead_count, ...}.
local meta, q, x, d, g, leasing = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[6], KEYS[7]
local now = tonumber(ARGV[1])
local cap = tonumber(ARGV[2])
local max_deliveries = tonumber(ARGV[3])
local mode = ARGV[4]
local p = ARGV[6]
local name = ARGV[7]
local l, lm, lo, dc = p .. 'l', p .. 'lm', p .. 'lo', p .. 'dc'
if redis.call('EXISTS', meta) == 0 then
  return {0, 0, 0, -1}
end
local ids = {}
if mode == 'due' then
  ids = redis.call('ZRANGEBYSCORE', l, '-inf', now)
elseif mode == 'owner' then
  local all = redis.call('HGETALL', lo)
  for i = 1, #all, 2 do
    if all[i + 1] == ARGV[5] then
      ids[#ids + 1] = all[i]
    end
  end
else
  for i = 9, #ARGV, 2 do
    local score = redis.call('ZSCORE', l, ARGV[i])
    if score and tonumber(score) == tonumber(ARGV[i + 1]) then
      ids[#ids + 1] = ARGV[i]
    end
  end
end
local out = {0, 0, 0, -1}
local restored, expired, redelivered, dead, freed = 0, 0, 0, 0, 0
for _, id in ipairs(ids) do
  local score, member = string.match(redis.call('HGET', lm, id), '^([^|]+)|(.+)$')
  local blob = redis.call('HGET', d, member)
  redis.call('ZREM', l, id)
  redis.call('HDEL', lm, id)
  redis.call('HDEL', lo, id)
  local count = tonumber(redis.call('HGET', dc, member) or '0')
  if mode ~= 'unlease' then
    count = count + 1
  end
  local exp = blob_exp(blob)
  if expired_at(exp, now) then
    expired = expired + 1
    freed = freed + blob_plen(blob)
    redis.call('HDEL', d, member)
    redis.call('HDEL', dc, member)
  elseif mode ~= 'unlease' and count >= max_deliveries then
    dead = dead + 1
    freed = freed + blob_plen(blob)
    redis.call('HDEL', d, member)
    redis.call('HDEL', dc, member)
    out[#out + 1] = blob
    out[#out + 1] = count
  else
    if mode ~= 'unlease' then
      redelivered = redelivered + 1
      redis.call('HSET', dc, member, count)
    end
    redis.call('ZADD', q, score, member)
    if exp > 0 then
      redis.call('ZADD', x, exp, member)
    end
    restored = restored + 1
  end
end
local ended = #ids
if mode == 'unlease' then
  redis.call('HINCRBY', meta, 'leased', 0 - ended)
  redis.call('HINCRBY', g, 'leased', 0 - ended)
end
redis.call('HINCRBY', meta, 'inflight', 0 - ended)
redis.call('HINCRBY', meta, 'expired', expired)
redis.call('HINCRBY', meta, 'redelivered', redelivered)
redis.call('HINCRBY', meta, 'dead', dead)
redis.call('HINCRBY', g, 'inflight', 0 - ended)
redis.call('HINCRBY', g, 'expired', expired)
redis.call('HINCRBY', g, 'redelivered', redelivered)
redis.call('HINCRBY', g, 'dead', dead)
local dropped = 0
local count = redis.call('ZCARD', q)
if restored > 0 and count > cap then
  local evict = redis.call('ZRANGE', q, 0, count - cap - 1)
  freed = freed + remove_members(q, x, d, evict)
  dropped = #evict
  redis.call('HINCRBY', meta, 'dropped', dropped)
  redis.call('HINCRBY', g, 'dropped', dropped)
end
redis.call('HINCRBY', g, 'bytes', 0 - freed)
local first = redis.call('ZRANGE', l, 0, 0, 'WITHSCORES')
if #first == 0 then
  redis.call('ZREM', leasing, name)
else
  redis.call('ZADD', leasing, first[2], name)
  out[4] = tonumber(first[2])
end
if restored > 0 then
  redis.call('PUBLISH', ARGV[8], 'm|' .. name)
end
out[1], out[2], out[3] = restored - dropped, expired, dropped
return out
