-- KEYS: sub buf
-- ARGV: now limit
-- Takes up to limit unexpired messages (expired ones count as dropped) and the dropped count.
-- Returns {dropped, blob...}, or {-1} when the subscription is closed.
local sub, buf = KEYS[1], KEYS[2]
local now = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
if redis.call('EXISTS', sub) == 0 then
  return {-1}
end
redis.call('HSET', sub, 'act', now)
local dropped = tonumber(redis.call('HGET', sub, 'dropped'))
local out = {dropped}
while #out - 1 < limit do
  local batch = redis.call('LPOP', buf, limit - (#out - 1))
  if not batch then
    break
  end
  for _, blob in ipairs(batch) do
    if expired_at(blob_exp(blob), now) then
      dropped = dropped + 1
    else
      out[#out + 1] = blob
    end
  end
end
out[1] = dropped
redis.call('HSET', sub, 'dropped', 0)
return out
