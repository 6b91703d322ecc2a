-- Ends a request: removes its reply channel and returns the reply if one came (nil otherwise), in one step, so a reply
-- is either handed to the request or refused afterwards, never accepted and lost.
-- KEYS: inbox
local reply = redis.call('HGET', KEYS[1], 'reply')
redis.call('DEL', KEYS[1])
return reply
