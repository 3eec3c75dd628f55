-- Numbers, stores, trims and publishes one message atomically, so PUBLISH order is seq order
-- across every instance (PITFALLS 6) and nothing is stored without being published or the reverse.
-- KEYS: 1 seq counter, 2 history zset (score seq, member event JSON), 3 idempotency hash (field -> seq),
--       4 idempotency index zset (score seq, member field; lets trimming forget old fields)
-- ARGV: 1 channel, 2 idempotency field or '', 3 event JSON before the seq, 4 event JSON after it,
--       5 history limit, 6 deadline in Redis-clock ms (0: none)
-- Returns {1, event} stored, {0, event} duplicate of a stored message, {-1} too late: the caller has given up.
local deadline = tonumber(ARGV[6])
if deadline > 0 then
  local now = redis.call('TIME')
  if tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) > deadline then
    return {-1}
  end
end

local field = ARGV[2]
if field ~= '' then
  local existing = redis.call('HGET', KEYS[3], field)
  if existing then
    local stored = redis.call('ZRANGE', KEYS[2], existing, existing, 'BYSCORE')
    if stored[1] then
      return {0, stored[1]}
    end
  end
end

local seq = redis.call('INCR', KEYS[1])
local event = ARGV[3] .. seq .. ARGV[4]
redis.call('ZADD', KEYS[2], seq, event)
if field ~= '' then
  redis.call('HSET', KEYS[3], field, seq)
  redis.call('ZADD', KEYS[4], seq, field)
end

local oldest = seq - tonumber(ARGV[5])
if oldest > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', oldest)
  local stale = redis.call('ZRANGE', KEYS[4], '-inf', oldest, 'BYSCORE')
  for _, old in ipairs(stale) do
    redis.call('HDEL', KEYS[3], old)
  end
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', oldest)
end

redis.call('PUBLISH', ARGV[1], event)
return {1, event}
