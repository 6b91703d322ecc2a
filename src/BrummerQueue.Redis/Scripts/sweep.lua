-- KEYS: meta q x d subs g channels index
-- ARGV: now idle_ms name sub_prefix owner_prefix notify prune_only(0|1)
-- One cleanup pass over one channel: expired messages, idle subscriptions, and the channel itself once it
-- holds no message and no subscription. Atomic, so nodes sweeping at once count each removal once.
-- Returns {expired, channel_removed, subscriptions_removed, removed subscription id...}.
local meta, q, x, d, subs, g, channels, index = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8]
local now = tonumber(ARGV[1])
local idle = tonumber(ARGV[2])
local name = ARGV[3]
local sub_prefix = ARGV[4]
if redis.call('EXISTS', meta) == 0 then
  return {0, 0, 0}
end
local expired = prune(meta, q, x, d, g, now)
if ARGV[7] == '1' then
  return {expired, 0, 0}
end
local removed_subs = 0
local removed_ids = {}
local ids = redis.call('HKEYS', subs)
for _, id in ipairs(ids) do
  local sub = sub_prefix .. 's:' .. id
  local act = tonumber(redis.call('HGET', sub, 'act') or '0')
  if act + idle <= now then
    remove_subscription(sub, sub_prefix .. 'b:' .. id, subs, index, ARGV[5], id)
    redis.call('PUBLISH', ARGV[6], 'x|' .. id)
    removed_subs = removed_subs + 1
    removed_ids[#removed_ids + 1] = id
  end
end
local removed_channel = 0
-- A channel with leased messages (acknowledged receive: sorted set prefix .. 'l') stays.
if redis.call('ZCARD', q) == 0 and redis.call('HLEN', subs) == 0 and redis.call('ZCARD', sub_prefix .. 'l') == 0 then
  redis.call('DEL', meta, q, x, d, subs, sub_prefix .. 'psubs')
  redis.call('ZREM', channels, name)
  removed_channel = 1
end
local out = {expired, removed_channel, removed_subs}
for _, id in ipairs(removed_ids) do
  out[#out + 1] = id
end
return out
