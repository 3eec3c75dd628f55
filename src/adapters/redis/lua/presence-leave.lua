-- Removes one connection and tells whether it was the user's last in the room, cluster-wide, atomically.
-- A connection already reaped is not found: its MemberLeft was the reaper's to report, not ours.
-- KEYS: as presence-join.lua. ARGV: 1 connectionId, 2 expiry member
-- Returns 1 when this was the user's last connection, else 0.
local userId = redis.call('HGET', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[2])
if not userId then
  return 0
end
redis.call('HDEL', KEYS[1], ARGV[1])
if redis.call('HINCRBY', KEYS[2], userId, -1) <= 0 then
  redis.call('HDEL', KEYS[2], userId)
  redis.call('HDEL', KEYS[3], userId)
  return 1
end
return 0
