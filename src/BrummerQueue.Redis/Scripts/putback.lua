-- KEYS: meta q x d subs g channels
-- ARGV: now cap max_channels epoch name notify blob...
-- Returns {restored, expired, dropped}.
local meta, q, x, d, g, channels = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[6], KEYS[7]
local now = tonumber(ARGV[1])
local cap = tonumber(ARGV[2])
local max_channels = tonumber(ARGV[3])
local epoch = ARGV[4]
local name = ARGV[5]
local n = #ARGV - 6

local recreated = false
if redis.call('EXISTS', meta) == 1 then
  prune(meta, q, x, d, g, now)
else
  if redis.call('ZCARD', channels) >= max_channels then
    redis.call('HINCRBY', g, 'consumed', -n)
    redis.call('HINCRBY', g, 'dropped', n)
    return {0, 0, n}
  end
  -- Cleanup removed the channel after the take: the same incarnation comes back with its epoch.
  create_channel(meta, channels, name, epoch)
  recreated = true
end

local same = redis.call('HGET', meta, 'epoch') == epoch
local base = 0
if not same then
  -- A newer incarnation holds the name: the returned (older) messages go before its messages.
  local first = redis.call('ZRANGE', q, 0, 0, 'WITHSCORES')
  base = (tonumber(first[2]) or 1) - n
end

local restored, expired, bytes, max_seq = 0, 0, 0, 0
for i = 1, n do
  local blob = ARGV[6 + i]
  local exp = blob_exp(blob)
  local seq = blob_seq(blob)
  if expired_at(exp, now) then
    expired = expired + 1
  else
    local member, score = tostring(seq), seq
    if not same then
      member, score = epoch .. ':' .. seq, base + i - 1
    end
    redis.call('ZADD', q, score, member)
    redis.call('HSET', d, member, blob)
    if exp > 0 then
      redis.call('ZADD', x, exp, member)
    end
    bytes = bytes + blob_plen(blob)
    restored = restored + 1
  end
  if seq > max_seq then
    max_seq = seq
  end
end

if recreated then
  redis.call('HSET', meta, 'sent', n)
else
  redis.call('HINCRBY', meta, 'consumed', -n)
end
redis.call('HINCRBY', meta, 'expired', expired)
redis.call('HINCRBY', g, 'consumed', -n)
redis.call('HINCRBY', g, 'expired', expired)
redis.call('HINCRBY', g, 'bytes', bytes)
if same and max_seq > tonumber(redis.call('HGET', meta, 'seq')) then
  redis.call('HSET', meta, 'seq', max_seq)
end

-- The capacity rule, with the returned messages as the oldest.
local dropped = 0
local count = redis.call('ZCARD', q)
if count > cap then
  local evict = redis.call('ZRANGE', q, 0, count - cap - 1)
  local freed = remove_members(q, x, d, evict)
  dropped = #evict
  restored = restored - dropped
  redis.call('HINCRBY', meta, 'dropped', dropped)
  redis.call('HINCRBY', g, 'dropped', dropped)
  redis.call('HINCRBY', g, 'bytes', -freed)
end

redis.call('PUBLISH', ARGV[6], 'm|' .. name)
return {restored, expired, dropped}
