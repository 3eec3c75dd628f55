-- Token bucket shared by every instance. Redis's own clock is used so instances with skewed clocks agree.
-- KEYS: 1 bucket hash {tokens, at}
-- ARGV: 1 tokens per second, 2 burst (bucket size)
-- Returns 1 when a token was taken, 0 when the bucket is empty (nothing taken).
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(bucket[1]) or burst
local at = tonumber(bucket[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) / 1000 * rate)
local taken = 0
if tokens >= 1 then
  tokens = tokens - 1
  taken = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
-- A full bucket carries no information: let it expire once it would have refilled.
local refillMs = 3600000
if rate > 0 then
  refillMs = math.ceil((burst - tokens) / rate * 1000)
end
redis.call('PEXPIRE', KEYS[1], refillMs + 1000)
return taken
