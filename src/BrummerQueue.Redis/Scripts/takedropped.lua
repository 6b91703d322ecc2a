-- KEYS: sub
-- Returns the dropped count and resets it; -1 when the subscription is closed.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return -1
end
local dropped = tonumber(redis.call('HGET', KEYS[1], 'dropped'))
redis.call('HSET', KEYS[1], 'dropped', 0)
return dropped
