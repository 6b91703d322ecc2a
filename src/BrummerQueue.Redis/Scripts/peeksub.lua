-- KEYS: sub buf
-- ARGV: now reading_until
-- 1 when an unexpired message is buffered (expired ones at the head are removed and counted as dropped),
-- 0 when none, -1 when the subscription is closed. Waiting counts as activity; a 0 (the caller waits now) records
-- reading_until as the subscription's reading lease ('rd', shown as "reading" in stats on every node), a 1 ends it.
local sub, buf = KEYS[1], KEYS[2]
local now = tonumber(ARGV[1])
if redis.call('EXISTS', sub) == 0 then
  return -1
end
redis.call('HSET', sub, 'act', now)
while true do
  local head = redis.call('LINDEX', buf, 0)
  if not head then
    redis.call('HSET', sub, 'rd', ARGV[2])
    return 0
  end
  if not expired_at(blob_exp(head), now) then
    redis.call('HSET', sub, 'rd', 0)
    return 1
  end
  redis.call('LPOP', buf)
  redis.call('HINCRBY', sub, 'dropped', 1)
end
