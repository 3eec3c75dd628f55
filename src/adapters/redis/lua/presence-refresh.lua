-- Pushes back the expiry of an instance's live connections, and names those that are gone (reaped while
-- the instance was frozen or cut off, or lost in a Redis restart) so the instance can register them again.
-- KEYS: 1 expiry zset. ARGV: 1 ttl ms, 2.. expiry members
local time = redis.call('TIME')
local expiresAt = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000) + tonumber(ARGV[1])
local missing = {}
for i = 2, #ARGV do
  if redis.call('ZADD', KEYS[1], 'XX', 'CH', expiresAt, ARGV[i]) == 0 and not redis.call('ZSCORE', KEYS[1], ARGV[i]) then
    missing[#missing + 1] = ARGV[i]
  end
end
return missing
