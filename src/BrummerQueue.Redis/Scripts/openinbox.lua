-- A request's private reply channel (docs/scale-out.md "Request/reply"): one hash per request, state 'open' until the
-- first reply ('answered', with the reply's blob). It expires on its own, so a node that dies leaves nothing behind.
-- KEYS: inbox   ARGV: expiry_ms
redis.call('HSET', KEYS[1], 'state', 'open')
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
