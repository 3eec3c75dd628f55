-- Claims expired connections (their instance stopped refreshing them), removes them, and publishes MemberLeft
-- for every user whose last connection went, in the same step (see presence-join.lua: presence is announced
-- from inside the scripts so its events keep their order). Being one script, a connection is claimed by
-- exactly one reaper however many instances run this at once (pitfalls §8: expiry scores, not keyspace
-- notifications). Room keys are derived from the member, so this script is for a single Redis (not Redis
-- Cluster). An entry is removed even if its PUBLISH is refused: a ghost that never leaves is the worse outcome.
-- KEYS: 1 expiry zset
-- ARGV: 1 connections-hash prefix, 2 counts-hash prefix, 3 users-hash prefix, 4 batch size,
--       5 room channel prefix, 6 `at` of the MemberLeft events (ISO-8601)
-- Expiry members are '<byte length of roomId>:<roomId><connectionId>'.
-- Returns a flat list of (roomId, userId, user JSON or '') for every user whose last connection was reaped.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local due = redis.call('ZRANGE', KEYS[1], '-inf', now, 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[4]))
local gone = {}

-- The MemberLeft JSON the codec decodes (src/adapters/redis/codec.ts), from the stored presence entry.
local function leftEvent(roomId, userId, stored)
  local name = userId
  if stored then
    local ok, decoded = pcall(cjson.decode, stored)
    if ok and type(decoded) == 'table' and type(decoded.name) == 'string' then
      name = decoded.name
    end
  end
  return '{"kind":"left","roomId":' .. cjson.encode(roomId) .. ',"user":{"id":' .. cjson.encode(userId) ..
    ',"name":' .. cjson.encode(name) .. '},"at":' .. cjson.encode(ARGV[6]) .. '}'
end

for _, member in ipairs(due) do
  redis.call('ZREM', KEYS[1], member)
  local colon = string.find(member, ':', 1, true)
  local length = colon and tonumber(string.sub(member, 1, colon - 1))
  if length then
    local roomId = string.sub(member, colon + 1, colon + length)
    local connectionId = string.sub(member, colon + length + 1)
    local connections = ARGV[1] .. roomId
    local userId = redis.call('HGET', connections, connectionId)
    if userId then
      redis.call('HDEL', connections, connectionId)
      local counts = ARGV[2] .. roomId
      if redis.call('HINCRBY', counts, userId, -1) <= 0 then
        redis.call('HDEL', counts, userId)
        local users = ARGV[3] .. roomId
        local user = redis.call('HGET', users, userId)
        redis.call('HDEL', users, userId)
        redis.pcall('PUBLISH', ARGV[5] .. roomId, leftEvent(roomId, userId, user))
        gone[#gone + 1] = roomId
        gone[#gone + 1] = userId
        gone[#gone + 1] = user or ''
      end
    end
  end
end
return gone
