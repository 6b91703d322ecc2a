-- KEYS: meta q x d subs g
-- ARGV: now
-- A channel's figures after pruning what expired: {epoch, messages, subscriptions, last_seq, sent, consumed, expired, dropped,
-- inflight, leased, acked, redelivered, dead};
-- {} when the channel does not exist.
local meta, q, x, d, subs, g = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
if redis.call('EXISTS', meta) == 0 then
  return {}
end
prune(meta, q, x, d, g, tonumber(ARGV[1]))
local f = redis.call('HMGET', meta, 'epoch', 'seq', 'sent', 'consumed', 'expired', 'dropped', 'inflight', 'leased', 'acked', 'redelivered', 'dead')
return {f[1], redis.call('ZCARD', q), redis.call('HLEN', subs), tonumber(f[2]), tonumber(f[3]), tonumber(f[4]), tonumber(f[5]), tonumber(f[6]),
  tonumber(f[7] or '0'), tonumber(f[8] or '0'), tonumber(f[9] or '0'), tonumber(f[10] or '0'), tonumber(f[11] or '0')}
