-- Registers one connection and tells whether it is the user's first in the room, cluster-wide, atomically.
-- KEYS: 1 connections hash (connectionId -> userId), 2 counts hash (userId -> open connections),
--       3 users hash (userId -> {id, name, since} JSON), 4 expiry zset (score: expiry in Redis-clock ms)
-- ARGV: 1 connectionId, 2 userId, 3 user JSON, 4 ttl ms, 5 expiry member
-- Returns 1 for the user's first connection, else 0.
local time = redis.call('TIME')
local expiresAt = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000) + tonumber(ARGV[4])
redis.call('ZADD', KEYS[4], expiresAt, ARGV[5])
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if redis.call('HINCRBY', KEYS[2], ARGV[2], 1) == 1 then
  redis.call('HSET', KEYS[3], ARGV[2], ARGV[3])
  return 1
end
return 0
