-- KEYS: patterns channels index owner_set
-- ARGV: now id size owner max_per_owner pattern key_prefix notify
-- Opens a pattern subscription (its keys under the pattern's own hash tag) and attaches it to every existing channel whose
-- name matches; channels made later get it in create_channel. Returns {'ok'} or {'owner'}.
local patterns, channels, index, owner_set = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local id, owner, pattern = ARGV[2], ARGV[4], ARGV[6]
if owner ~= '' and redis.call('SCARD', owner_set) >= tonumber(ARGV[5]) then
  return {'owner'}
end
redis.call('HSET', ARGV[7] .. 's:' .. id, 'size', ARGV[3], 'owner', owner, 'dropped', 0, 'act', ARGV[1], 'notify', ARGV[8], 'pattern', pattern)
redis.call('HSET', patterns, id, pattern)
redis.call('HSET', index, id, pattern)
if owner ~= '' then
  redis.call('SADD', owner_set, id)
end
local gprefix = global_prefix(channels)
for _, name in ipairs(redis.call('ZRANGE', channels, 0, -1)) do
  if pattern_matches(pattern, name) then
    redis.call('HSET', gprefix .. '{' .. name .. '}:psubs', id, pattern)
  end
end
return {'ok'}
