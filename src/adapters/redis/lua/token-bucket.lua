-- now_ms(): Redis's own clock in milliseconds (with a fraction), so instances with skewed clocks agree.
-- take_token(key, rate, burst, now): the token bucket shared by every instance, included by the scripts that
-- spend one (take-token, append-message) so a limit has one definition; `now` from now_ms().
-- Returns 1 when a token was taken, 0 when the bucket is empty (nothing taken).
local function now_ms()
  local time = redis.call('TIME')
  return tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
end

local function take_token(key, rate, burst, now)
  local bucket = redis.call('HMGET', key, 'tokens', 'at')
  local tokens = tonumber(bucket[1]) or burst
  local at = tonumber(bucket[2]) or now
  tokens = math.min(burst, tokens + math.max(0, now - at) / 1000 * rate)
  local taken = 0
  if tokens >= 1 then
    tokens = tokens - 1
    taken = 1
  end
  redis.call('HSET', key, 'tokens', tostring(tokens), 'at', tostring(now))
  -- A full bucket carries no information: let it expire once it would have refilled.
  local refillMs = 3600000
  if rate > 0 then
    refillMs = math.ceil((burst - tokens) / rate * 1000)
  end
  redis.call('PEXPIRE', key, refillMs + 1000)
  return taken
end
