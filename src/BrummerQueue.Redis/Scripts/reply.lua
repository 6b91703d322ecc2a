-- A reply to a request's private reply channel, from any node: accepted only while the request waits and has none yet.
-- KEYS: inbox   ARGV: blob notify name
local state = redis.call('HGET', KEYS[1], 'state')
if not state then
  return 'gone'
end
if state ~= 'open' then
  return 'answered'
end
redis.call('HSET', KEYS[1], 'state', 'answered', 'reply', ARGV[1])
-- 'm|<name>': every node wakes its waiters of that name; the requesting node finds the reply.
redis.call('PUBLISH', ARGV[2], 'm|' .. ARGV[3])
return 'ok'
