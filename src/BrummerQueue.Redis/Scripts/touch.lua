-- KEYS: sub
-- ARGV: now reading_until
-- Marks a subscription active and renews its reading lease (a reader is waiting on it on some node). 0 when it is closed.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
redis.call('HSET', KEYS[1], 'act', ARGV[1], 'rd', ARGV[2])
return 1
