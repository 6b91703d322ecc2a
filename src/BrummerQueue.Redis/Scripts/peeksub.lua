-- KEYS: sub buf
-- ARGV: now
-- 1 when an unexpired message is buffered (expired ones at the head are removed and counted as dropped),
-- 0 when none, -1 when the subscription is closed. Waiting counts as activity.
local sub, buf = KEYS[1], KEYS[2]
local now = tonumber(ARGV[1])
if redis.call('EXISTS', sub) == 0 then
  return -1
end
redis.call('HSET', sub, 'act', now)
while true do
  local head = redis.call('LINDEX', buf, 0)
  if not head then
    return 0
  end
  if not expired_at(blob_exp(head), now) then
    return 1
  end
  redis.call('LPOP', buf)
  redis.call('HINCRBY', sub, 'dropped', 1)
end
