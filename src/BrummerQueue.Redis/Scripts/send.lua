-- A batch of sends to one channel, stored in the order given: a node sends together the sends to a channel that arrive
-- while its script for that channel is in flight (docs/scale-out.md "Batched sends"). Each message is checked, stored
-- and counted as if it were sent alone, in turn: a full backlog evicts its oldest (old messages first, then this batch's
-- own), and the byte budget refuses a message without touching the rest.
-- KEYS: meta q x d subs g channels
-- ARGV: now cap max_bytes max_channels new_epoch name sub_prefix notify node, then for each message: plen exp tail
-- Returns {'channels'} when the channel would be one too many; else {'ok', epoch, then for each message: its seq and
-- how many subscriptions got it, or 0 and 0 when the byte budget refused it}.
local meta, q, x, d, subs, g, channels = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local now = tonumber(ARGV[1])
local cap = tonumber(ARGV[2])
local max_bytes = tonumber(ARGV[3])
local max_channels = tonumber(ARGV[4])
local name, sub_prefix = ARGV[6], ARGV[7]
local k = (#ARGV - 9) / 3

local head = redis.call('HMGET', meta, 'epoch', 'seq')
local epoch = head[1]
local count = 0
if epoch then
  prune(meta, q, x, d, g, now)
  count = redis.call('ZCARD', q)
elseif redis.call('ZCARD', channels) >= max_channels then
  return {'channels'}
end

-- The old messages the batch may evict, oldest first, with their payload bytes.
local old, old_plen = {}, {}
local n_old = math.min(count, math.max(0, count + k - cap))
if n_old > 0 then
  old = redis.call('ZRANGE', q, 0, n_old - 1)
  local i = 1
  while i <= #old do
    local j = math.min(i + 499, #old)
    for n, blob in ipairs(redis.call('HMGET', d, unpack(old, i, j))) do
      old_plen[i + n - 1] = blob and blob_plen(blob) or 0
    end
    i = j + 1
  end
end

local used0 = tonumber(redis.call('HGET', g, 'bytes') or '0')
local used = used0
local seq = tonumber(head[2] or '0')
local gone_old, gone_new = 0, 0
local kept = {}
local seqs = {}
for i = 1, k do
  local a = 9 + (i - 1) * 3
  local plen = tonumber(ARGV[a + 1])
  -- What this send evicts from a full backlog, and the bytes that frees.
  local size = count - gone_old + #kept - gone_new
  local evict_old, evict_new, freed = 0, 0, 0
  while size - evict_old - evict_new >= cap do
    if gone_old + evict_old < n_old then
      evict_old = evict_old + 1
      freed = freed + old_plen[gone_old + evict_old]
    else
      evict_new = evict_new + 1
      freed = freed + kept[gone_new + evict_new].plen
    end
  end
  if used - freed + plen > max_bytes then
    seqs[i] = 0
  else
    gone_old, gone_new = gone_old + evict_old, gone_new + evict_new
    used = used - freed + plen
    seq = seq + 1
    local member = tostring(seq)
    kept[#kept + 1] = {
      member = member, plen = plen, exp = tonumber(ARGV[a + 2]),
      blob = ARGV[a + 1] .. '|' .. ARGV[a + 2] .. '|' .. member .. '|' .. ARGV[a + 3],
    }
    seqs[i] = seq
  end
end

if #kept == 0 then
  local refused = {'ok', epoch or ''}
  for i = 1, k do
    refused[#refused + 1] = 0
    refused[#refused + 1] = 0
  end
  return refused
end

if not epoch then
  epoch = ARGV[5]
  create_channel(meta, channels, name, epoch)
end

-- The backlog gets the batch's messages that no later one in it evicted; the evicted old ones leave it.
local members, blobs, expiries = {}, {}, {}
for j = gone_new + 1, #kept do
  local m = kept[j]
  members[#members + 1] = m.member
  members[#members + 1] = m.member
  blobs[#blobs + 1] = m.member
  blobs[#blobs + 1] = m.blob
  if m.exp > 0 then
    expiries[#expiries + 1] = m.exp
    expiries[#expiries + 1] = m.member
  end
end
chunked('ZADD', q, members)
chunked('HSET', d, blobs)
chunked('ZADD', x, expiries)
if gone_old > 0 then
  forget_members(q, x, d, {unpack(old, 1, gone_old)})
end

local sent, dropped = #kept, gone_old + gone_new
redis.call('HINCRBY', meta, 'seq', sent)
redis.call('HINCRBY', meta, 'sent', sent)
redis.call('HINCRBY', g, 'sent', sent)
redis.call('HINCRBY', g, 'bytes', used - used0)
if dropped > 0 then
  redis.call('HINCRBY', meta, 'dropped', dropped)
  redis.call('HINCRBY', g, 'dropped', dropped)
end

-- Every subscription gets a copy of every message, evicted or not.
local copies = {}
for j = 1, #kept do
  copies[j] = kept[j].blob
end
local per = 0
local fan = redis.call('HGETALL', subs)
for i = 1, #fan, 2 do
  buffer_append(sub_prefix .. 's:' .. fan[i], sub_prefix .. 'b:' .. fan[i], tonumber(fan[i + 1]), copies)
  per = per + 1
end

-- Pattern subscriptions matched when the channel was made or the pattern subscribed: their buffers hold the blob
-- followed by the channel's name, and 'm|<pattern>' wakes their readers on every node.
local gprefix = global_prefix(channels)
local pfan = redis.call('HGETALL', sub_prefix .. 'psubs')
for i = 1, #pfan, 2 do
  local kp = gprefix .. '{' .. pfan[i + 1] .. '}:'
  local psub = kp .. 's:' .. pfan[i]
  local f = redis.call('HMGET', psub, 'size', 'notify')
  if f[1] then
    local tagged = {}
    for j = 1, #copies do
      tagged[j] = copies[j] .. name
    end
    buffer_append(psub, kp .. 'b:' .. pfan[i], tonumber(f[1]), tagged)
    redis.call('PUBLISH', f[2], 'm|' .. pfan[i + 1])
    per = per + 1
  else
    redis.call('HDEL', sub_prefix .. 'psubs', pfan[i])
  end
end
if per > 0 then
  redis.call('HINCRBY', meta, 'delivered', per * sent)
  redis.call('HINCRBY', g, 'delivered', per * sent)
end

-- One notification for the batch, 's|<node>|<name bytes>|<name>' then '<blob bytes>|<blob>' for each message stored:
-- other nodes wake their readers and raise MessageStored from it.
local note = {'s|', ARGV[9], '|', #name, '|', name}
for j = 1, #kept do
  note[#note + 1] = #kept[j].blob
  note[#note + 1] = '|'
  note[#note + 1] = kept[j].blob
end
redis.call('PUBLISH', ARGV[8], table.concat(note))

local answer = {'ok', epoch}
for i = 1, k do
  answer[#answer + 1] = seqs[i]
  answer[#answer + 1] = seqs[i] > 0 and per or 0
end
return answer
