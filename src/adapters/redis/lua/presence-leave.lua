-- Removes one connection and, for the user's last in the room, publishes MemberLeft, atomically (see
-- presence-join.lua for why presence is announced from inside the scripts).
-- A connection already reaped is not found: its MemberLeft was the reaper's to report, not ours.
-- The connection is removed even if the PUBLISH is refused: a lost MemberLeft is better than a user who
-- stays online forever.
-- KEYS: as presence-join.lua. ARGV: 1 connectionId, 2 expiry member, 3 room channel, 4 MemberLeft JSON
-- Returns 1 when this was the user's last connection, 2 when it was but MemberLeft could not be published,
-- else 0.
local userId = redis.call('HGET', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[2])
if not userId then
  return 0
end
redis.call('HDEL', KEYS[1], ARGV[1])
if redis.call('HINCRBY', KEYS[2], userId, -1) <= 0 then
  redis.call('HDEL', KEYS[2], userId)
  redis.call('HDEL', KEYS[3], userId)
  local published = redis.pcall('PUBLISH', ARGV[3], ARGV[4])
  if type(published) == 'table' and published.err then
    return 2
  end
  return 1
end
return 0
