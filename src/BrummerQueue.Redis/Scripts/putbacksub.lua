-- KEYS: sub buf
-- ARGV: now dropped blob...
-- Returns {restored, expired, dropped}.
local sub, buf = KEYS[1], KEYS[2]
local now = tonumber(ARGV[1])
local n = #ARGV - 2
if redis.call('EXISTS', sub) == 0 then
  return {0, 0, n}
end
local size = tonumber(redis.call('HGET', sub, 'size'))
local restored, expired = 0, 0
for i = n, 1, -1 do
  local blob = ARGV[2 + i]
  if expired_at(blob_exp(blob), now) then
    expired = expired + 1
  else
    redis.call('LPUSH', buf, blob)
    restored = restored + 1
  end
end
local trimmed = 0
local len = redis.call('LLEN', buf)
if len > size then
  trimmed = len - size
  redis.call('LPOP', buf, trimmed)
end
redis.call('HINCRBY', sub, 'dropped', tonumber(ARGV[2]) + expired + trimmed)
return {restored - trimmed, expired, trimmed}
