-- Registers one connection and, for the user's first in the room, publishes MemberJoined, atomically: the
-- transition and its announcement happen together, in the order of every other presence transition of the room
-- (scripts run one at a time, and PUBLISH order is delivery order), so a MemberLeft can never overtake the
-- MemberJoined that followed it. PUBLISH comes before the connection is recorded: a refused PUBLISH (ACL) aborts
-- the script leaving only the expiry entry, which names no connection and which the reaper drops silently, so a
-- connection is never recorded without its MemberJoined. The expiry ZADD is the first write because a script
-- without flags is checked for maxmemory at its first write: refused there, nothing was published either.
-- KEYS: 1 connections hash (connectionId -> userId), 2 counts hash (userId -> open connections),
--       3 users hash (userId -> {id, name, since} JSON), 4 expiry zset (score: expiry in Redis-clock ms)
-- ARGV: 1 connectionId, 2 userId, 3 user JSON, 4 ttl ms, 5 expiry member, 6 room channel, 7 MemberJoined JSON
-- Returns 1 for the user's first connection, else 0.
local time = redis.call('TIME')
local expiresAt = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000) + tonumber(ARGV[4])
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then
  redis.call('ZADD', KEYS[4], expiresAt, ARGV[5])
  return 0
end
local first = (tonumber(redis.call('HGET', KEYS[2], ARGV[2]) or '0') or 0) <= 0
redis.call('ZADD', KEYS[4], expiresAt, ARGV[5])
if first then
  redis.call('PUBLISH', ARGV[6], ARGV[7])
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
if first then
  redis.call('HSET', KEYS[3], ARGV[2], ARGV[3])
  return 1
end
return 0
