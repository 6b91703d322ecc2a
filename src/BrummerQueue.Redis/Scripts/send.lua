-- KEYS: meta q x d subs g channels
-- ARGV: now cap max_bytes max_channels plen exp tail new_epoch name sub_prefix notify node
local meta, q, x, d, subs, g, channels = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local now = tonumber(ARGV[1])
local cap = tonumber(ARGV[2])
local max_bytes = tonumber(ARGV[3])
local max_channels = tonumber(ARGV[4])
local plen = tonumber(ARGV[5])
local exp = tonumber(ARGV[6])
local tail = ARGV[7]
local name = ARGV[9]
local sub_prefix = ARGV[10]

local exists = redis.call('EXISTS', meta) == 1
local evict = {}
local freed = 0
if exists then
  prune(meta, q, x, d, g, now)
  local count = redis.call('ZCARD', q)
  if count >= cap then
    evict = redis.call('ZRANGE', q, 0, count - cap)
    for _, blob in ipairs(redis.call('HMGET', d, unpack(evict))) do
      if blob then
        freed = freed + blob_plen(blob)
      end
    end
  end
elseif redis.call('ZCARD', channels) >= max_channels then
  return {'channels'}
end

local used = tonumber(redis.call('HGET', g, 'bytes') or '0')
if used - freed + plen > max_bytes then
  return {'bytes'}
end

if not exists then
  create_channel(meta, channels, name, ARGV[8])
end

local seq = redis.call('HINCRBY', meta, 'seq', 1)
local member = tostring(seq)
local blob = ARGV[5] .. '|' .. ARGV[6] .. '|' .. member .. '|' .. tail
redis.call('ZADD', q, seq, member)
redis.call('HSET', d, member, blob)
if exp > 0 then
  redis.call('ZADD', x, exp, member)
end
if #evict > 0 then
  remove_members(q, x, d, evict)
  redis.call('HINCRBY', meta, 'dropped', #evict)
  redis.call('HINCRBY', g, 'dropped', #evict)
end
redis.call('HINCRBY', g, 'bytes', plen - freed)
redis.call('HINCRBY', meta, 'sent', 1)
redis.call('HINCRBY', g, 'sent', 1)

local delivered = 0
local fan = redis.call('HGETALL', subs)
for i = 1, #fan, 2 do
  buffer_append(sub_prefix .. 's:' .. fan[i], sub_prefix .. 'b:' .. fan[i], tonumber(fan[i + 1]), {blob})
  delivered = delivered + 1
end
if delivered > 0 then
  redis.call('HINCRBY', meta, 'delivered', delivered)
  redis.call('HINCRBY', g, 'delivered', delivered)
end

-- Pattern subscriptions matched when the channel was made or the pattern subscribed: their buffers hold the blob
-- followed by the channel's name, and 'm|<pattern>' wakes their readers on every node.
local gprefix = global_prefix(channels)
local pfan = redis.call('HGETALL', sub_prefix .. 'psubs')
for i = 1, #pfan, 2 do
  local kp = gprefix .. '{' .. pfan[i + 1] .. '}:'
  local psub = kp .. 's:' .. pfan[i]
  local f = redis.call('HMGET', psub, 'size', 'notify')
  if f[1] then
    buffer_append(psub, kp .. 'b:' .. pfan[i], tonumber(f[1]), {blob .. name})
    redis.call('PUBLISH', f[2], 'm|' .. pfan[i + 1])
    delivered = delivered + 1
  else
    redis.call('HDEL', sub_prefix .. 'psubs', pfan[i])
  end
end

-- 's|<node>|<name bytes>|<name><blob>': other nodes wake their readers and raise MessageStored from it.
redis.call('PUBLISH', ARGV[11], 's|' .. ARGV[12] .. '|' .. #name .. '|' .. name .. blob)
return {'ok', seq, redis.call('HGET', meta, 'epoch'), delivered, #evict}
