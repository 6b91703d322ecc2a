-- KEYS: sub
-- ARGV: now
-- Marks a subscription active (a reader is waiting on it on some node). 0 when it is closed.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
redis.call('HSET', KEYS[1], 'act', ARGV[1])
return 1
