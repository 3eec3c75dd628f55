-- Claims expired connections (their instance stopped refreshing them) and removes them. Being one script,
-- a connection is claimed by exactly one reaper however many instances run this at once (PITFALLS 8:
-- expiry scores, not keyspace notifications). Room keys are derived from the member, so this script is
-- for a single Redis (not Redis Cluster).
-- KEYS: 1 expiry zset
-- ARGV: 1 connections-hash prefix, 2 counts-hash prefix, 3 users-hash prefix, 4 batch size
-- Expiry members are '<byte length of roomId>:<roomId><connectionId>'.
-- Returns a flat list of (roomId, userId, user JSON or '') for every user whose last connection was reaped.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local due = redis.call('ZRANGE', KEYS[1], '-inf', now, 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[4]))
local gone = {}
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
        gone[#gone + 1] = roomId
        gone[#gone + 1] = userId
        gone[#gone + 1] = user or ''
      end
    end
  end
end
return gone
