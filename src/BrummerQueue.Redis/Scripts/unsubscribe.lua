-- KEYS: sub buf subs index
-- ARGV: id owner_prefix notify
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
remove_subscription(KEYS[1], KEYS[2], KEYS[3], KEYS[4], ARGV[2], ARGV[1])
redis.call('PUBLISH', ARGV[3], 'x|' .. ARGV[1])
return 1
