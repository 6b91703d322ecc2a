-- KEYS: meta q x d subs g
-- ARGV: now limit peek(0|1) newest(0|1)
-- Returns {epoch, blob...}; {''} for a channel that does not exist.
local meta, q, x, d, g = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[6]
local now = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
if redis.call('EXISTS', meta) == 0 then
  return {''}
end
prune(meta, q, x, d, g, now)
local epoch = redis.call('HGET', meta, 'epoch')
local ids
if ARGV[4] == '1' then
  ids = redis.call('ZRANGE', q, -limit, -1)
else
  ids = redis.call('ZRANGE', q, 0, limit - 1)
end
if #ids == 0 then
  return {epoch}
end
local blobs = redis.call('HMGET', d, unpack(ids))
-- Delivery counts of messages returned by an ended lease (acknowledged receive), read before remove_members drops them.
local dcs = redis.call('HMGET', string.sub(d, 1, -2) .. 'dc', unpack(ids))
if ARGV[3] == '0' then
  local bytes = remove_members(q, x, d, ids)
  redis.call('HINCRBY', g, 'bytes', -bytes)
  redis.call('HINCRBY', meta, 'consumed', #ids)
  redis.call('HINCRBY', g, 'consumed', #ids)
end
local out = {epoch}
for i, blob in ipairs(blobs) do
  if dcs[i] then
    blob = '#' .. dcs[i] .. '|' .. blob
  end
  out[#out + 1] = blob
end
return out
