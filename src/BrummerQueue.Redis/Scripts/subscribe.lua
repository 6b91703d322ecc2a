-- KEYS: meta q x d subs g channels index owner_set
-- ARGV: now id size owner max_per_owner since(-1 = none) epoch('' = none) new_epoch max_channels name sub_prefix
-- Returns {'ok', epoch, recovered(-1 none, 0, 1)} or {'owner'} / {'channels'}.
local meta, q, x, d, subs, g, channels, index, owner_set = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9]
local now = tonumber(ARGV[1])
local id = ARGV[2]
local size = tonumber(ARGV[3])
local owner = ARGV[4]
local since = tonumber(ARGV[6])
local asked_epoch = ARGV[7]
local name = ARGV[10]
local sub_prefix = ARGV[11]

if owner ~= '' and redis.call('SCARD', owner_set) >= tonumber(ARGV[5]) then
  return {'owner'}
end
if redis.call('EXISTS', meta) == 1 then
  prune(meta, q, x, d, g, now)
else
  if redis.call('ZCARD', channels) >= tonumber(ARGV[9]) then
    return {'channels'}
  end
  create_channel(meta, channels, name, ARGV[8])
end

local epoch = redis.call('HGET', meta, 'epoch')
local last = tonumber(redis.call('HGET', meta, 'seq'))
local sub = sub_prefix .. 's:' .. id
local buf = sub_prefix .. 'b:' .. id
redis.call('HSET', subs, id, size)
redis.call('HSET', sub, 'size', size, 'owner', owner, 'dropped', 0, 'act', now, 'at', now)
redis.call('HSET', index, id, name)
if owner ~= '' then
  redis.call('SADD', owner_set, id)
end

local recovered = -1
if since >= 0 then
  local same
  if asked_epoch ~= '' then
    same = asked_epoch == epoch
  else
    same = since <= last
  end
  local ids
  if same then
    ids = redis.call('ZRANGEBYSCORE', q, '(' .. since, '+inf')
  else
    ids = redis.call('ZRANGE', q, 0, -1)
  end
  local blobs = {}
  local i = 1
  while i <= #ids do
    local j = math.min(i + 499, #ids)
    for _, blob in ipairs(redis.call('HMGET', d, unpack(ids, i, j))) do
      blobs[#blobs + 1] = blob
    end
    i = j + 1
  end
  buffer_append(sub, buf, size, blobs)
  recovered = 0
  if same and since <= last and redis.call('ZCOUNT', q, '(' .. since, last) == last - since then
    recovered = 1
  end
end
return {'ok', epoch, recovered}
