-- KEYS: sub buf patterns index channels
-- ARGV: id owner_prefix notify now idle_ms(-1: unconditionally)
-- Closes a pattern subscription (only when idle for idle_ms, for cleanup): its keys, its entry in every matching channel,
-- the pattern list, the id index and its owner's set. 1 when closed, 0 when unknown (or not idle).
local sub, buf, patterns, index, channels = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local id = ARGV[1]
if redis.call('EXISTS', sub) == 0 then
  redis.call('HDEL', patterns, id)
  return 0
end
local idle = tonumber(ARGV[5])
if idle >= 0 and tonumber(redis.call('HGET', sub, 'act') or '0') + idle > tonumber(ARGV[4]) then
  return 0
end
local pattern = redis.call('HGET', sub, 'pattern')
remove_subscription(sub, buf, patterns, index, ARGV[2], id)
local gprefix = global_prefix(channels)
for _, name in ipairs(redis.call('ZRANGE', channels, 0, -1)) do
  if pattern_matches(pattern, name) then
    redis.call('HDEL', gprefix .. '{' .. name .. '}:psubs', id)
  end
end
redis.call('PUBLISH', ARGV[3], 'x|' .. id)
return 1
