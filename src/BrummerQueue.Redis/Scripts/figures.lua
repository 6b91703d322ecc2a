-- KEYS: meta q x d subs g
-- ARGV: now with_subscriptions(0|1)
-- A channel's figures after pruning what expired: {epoch, messages, subscriptions, last_seq, sent, consumed, expired, dropped,
-- delivered, inflight, leased, acked, redelivered, dead}, then with_subscriptions 1 seven fields per subscription: id, owner,
-- created ms, last activity ms, buffered, dropped, reading-lease ms (0 = none). {} when the channel does not exist.
local meta, q, x, d, subs, g = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
if redis.call('EXISTS', meta) == 0 then
  return {}
end
prune(meta, q, x, d, g, tonumber(ARGV[1]))
local f = redis.call('HMGET', meta, 'epoch', 'seq', 'sent', 'consumed', 'expired', 'dropped', 'delivered', 'inflight', 'leased', 'acked', 'redelivered', 'dead')
local out = {f[1], redis.call('ZCARD', q), redis.call('HLEN', subs), tonumber(f[2]), tonumber(f[3]), tonumber(f[4]), tonumber(f[5]), tonumber(f[6]), tonumber(f[7] or '0'),
  tonumber(f[8] or '0'), tonumber(f[9] or '0'), tonumber(f[10] or '0'), tonumber(f[11] or '0'), tonumber(f[12] or '0')}
if ARGV[2] == '1' then
  local prefix = string.sub(meta, 1, #meta - 4)
  for _, id in ipairs(redis.call('HKEYS', subs)) do
    local s = redis.call('HMGET', prefix .. 's:' .. id, 'owner', 'at', 'act', 'dropped', 'rd')
    if s[3] then
      out[#out + 1] = id
      out[#out + 1] = s[1] or ''
      out[#out + 1] = tonumber(s[2] or s[3])
      out[#out + 1] = tonumber(s[3])
      out[#out + 1] = redis.call('LLEN', prefix .. 'b:' .. id)
      out[#out + 1] = tonumber(s[4] or '0')
      out[#out + 1] = tonumber(s[5] or '0')
    end
  end
end
return out
