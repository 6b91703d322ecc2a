-- Shared by every script (prepended by LuaScripts). A message is stored as one blob,
-- "plen|exp|seq|ts|ttl|id|tlen|" .. type .. payload: plen the payload's bytes (the byte budget),
-- exp its expiry in Unix ms (0 = never). Every key of a channel carries the hash tag {channel}.

local function blob_plen(blob)
  return tonumber(string.match(blob, '^(%d+)|'))
end

local function blob_exp(blob)
  return tonumber(string.match(blob, '^%d+|(%d+)|'))
end

local function blob_seq(blob)
  return tonumber(string.match(blob, '^%d+|%d+|(%d+)|'))
end

local function expired_at(exp, now)
  return exp > 0 and exp <= now
end

-- Calls cmd(key, members...) in chunks (Lua's unpack has a stack limit).
local function chunked(cmd, key, members)
  local i = 1
  while i <= #members do
    local j = math.min(i + 499, #members)
    redis.call(cmd, key, unpack(members, i, j))
    i = j + 1
  end
end

-- Removes the members from a channel's backlog (q), expiry index (x), blobs (d) and delivery counts.
local function forget_members(q, x, d, members)
  chunked('ZREM', q, members)
  chunked('ZREM', x, members)
  chunked('HDEL', d, members)
  -- The delivery counts of acknowledged receive (the key next to d: prefix .. 'dc').
  chunked('HDEL', string.sub(d, 1, -2) .. 'dc', members)
end

-- Removes the members from a channel's backlog (q), expiry index (x) and blobs (d); returns their payload bytes.
local function remove_members(q, x, d, members)
  if #members == 0 then
    return 0
  end
  local bytes = 0
  local i = 1
  while i <= #members do
    local j = math.min(i + 499, #members)
    local blobs = redis.call('HMGET', d, unpack(members, i, j))
    for _, blob in ipairs(blobs) do
      if blob then
        bytes = bytes + blob_plen(blob)
      end
    end
    i = j + 1
  end
  forget_members(q, x, d, members)
  return bytes
end

-- Removes every expired message of a channel (wherever it is in the backlog), counts it once as expired
-- on the channel and in the totals, and gives its bytes back to the budget. Returns how many.
local function prune(meta, q, x, d, g, now)
  local ids = redis.call('ZRANGEBYSCORE', x, '-inf', now)
  if #ids == 0 then
    return 0
  end
  local bytes = remove_members(q, x, d, ids)
  redis.call('HINCRBY', meta, 'expired', #ids)
  redis.call('HINCRBY', g, 'expired', #ids)
  redis.call('HINCRBY', g, 'bytes', -bytes)
  return #ids
end

-- Wildcard patterns (docs/protocol.md "Wildcard subscriptions"): '*' is one token, a last '>' one or more.
local function name_tokens(s)
  local t = {}
  local start = 1
  while true do
    local i = string.find(s, '.', start, true)
    if not i then
      t[#t + 1] = string.sub(s, start)
      return t
    end
    t[#t + 1] = string.sub(s, start, i - 1)
    start = i + 1
  end
end

local function pattern_matches(pattern, name)
  local p, n = name_tokens(pattern), name_tokens(name)
  for i = 1, #p do
    if p[i] == '>' then
      return #n >= i
    end
    if i > #n or (p[i] ~= '*' and p[i] ~= n[i]) then
      return false
    end
  end
  return #p == #n
end

-- The global key prefix, from the channel list's key ('<prefix>channels'); a channel's pattern subscriptions are in
-- '<channel prefix>psubs' (id to pattern), the open patterns in '<prefix>patterns' (id to pattern).
local function global_prefix(channels)
  return string.sub(channels, 1, -9)
end

local function create_channel(meta, channels, name, epoch)
  redis.call('HSET', meta, 'epoch', epoch, 'seq', 0, 'sent', 0, 'consumed', 0, 'expired', 0, 'dropped', 0)
  redis.call('ZADD', channels, 0, name)
  -- A channel made (again) gets every pattern subscription that matches its name: matched here, never on a send.
  local psubs = string.sub(meta, 1, -5) .. 'psubs'
  local pats = redis.call('HGETALL', global_prefix(channels) .. 'patterns')
  for i = 1, #pats, 2 do
    if pattern_matches(pats[i + 1], name) then
      redis.call('HSET', psubs, pats[i], pats[i + 1])
    end
  end
end

-- Appends blobs to a subscription buffer and drops its oldest beyond size, counting them in its dropped figure.
local function buffer_append(sub, buf, size, blobs)
  if #blobs == 0 then
    return
  end
  chunked('RPUSH', buf, blobs)
  local len = redis.call('LLEN', buf)
  if len > size then
    redis.call('LPOP', buf, len - size)
    redis.call('HINCRBY', sub, 'dropped', len - size)
  end
end

-- Closes a subscription: its keys, its entry in the channel, the id index and its owner's set.
local function remove_subscription(sub, buf, subs, index, owner_prefix, id)
  local owner = redis.call('HGET', sub, 'owner')
  if owner and owner ~= '' then
    redis.call('SREM', owner_prefix .. owner, id)
  end
  redis.call('DEL', sub, buf)
  redis.call('HDEL', subs, id)
  redis.call('HDEL', index, id)
end
