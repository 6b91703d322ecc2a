-- KEYS: meta q x d subs g leasing
-- ARGV: owner prefix name id...
-- Acks leased messages of owner ('' for none): removed, counted acked and consumed. Returns {acked, index of each id not
-- leased to owner (0-based)...}.
local meta, d, g, leasing = KEYS[1], KEYS[4], KEYS[6], KEYS[7]
local owner = ARGV[1]
local p = ARGV[2]
local out = {0}
local acked, bytes = 0, 0
for i = 4, #ARGV do
  local id = ARGV[i]
  local holder = redis.call('HGET', p .. 'lo', id)
  if holder and holder == owner then
    local member = string.match(redis.call('HGET', p .. 'lm', id), '^[^|]+|(.+)$')
    local blob = redis.call('HGET', d, member)
    if blob then
      bytes = bytes + blob_plen(blob)
    end
    redis.call('ZREM', p .. 'l', id)
    redis.call('HDEL', p .. 'lm', id)
    redis.call('HDEL', p .. 'lo', id)
    redis.call('HDEL', d, member)
    redis.call('HDEL', p .. 'dc', member)
    acked = acked + 1
  else
    out[#out + 1] = i - 4
  end
end
if acked > 0 then
  redis.call('HINCRBY', meta, 'acked', acked)
  redis.call('HINCRBY', meta, 'consumed', acked)
  redis.call('HINCRBY', meta, 'inflight', 0 - acked)
  redis.call('HINCRBY', g, 'acked', acked)
  redis.call('HINCRBY', g, 'consumed', acked)
  redis.call('HINCRBY', g, 'inflight', 0 - acked)
  redis.call('HINCRBY', g, 'bytes', 0 - bytes)
  if redis.call('ZCARD', p .. 'l') == 0 then
    redis.call('ZREM', leasing, ARGV[3])
  end
end
out[1] = acked
return out
