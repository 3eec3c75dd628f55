-- Commits one document edit atomically when the head is still the version the caller transformed it to
-- (compare-and-set), so versions are consecutive and each is committed once cluster-wide, and PUBLISH order is
-- version order on every instance. Nothing is stored without being published or the reverse.
-- KEYS: 1 document hash (fields text, version, ...), 2 edit log zset (score version, member edit JSON),
--       3 idempotency hash (field -> version), 4 idempotency index zset (score version, member field)
-- ARGV: 1 channel, 2 expected head version, 3 idempotency field, 4 edit JSON (its version is expected + 1),
--       5 new text, 6 history limit, 7 deadline in Redis-clock ms (0: none)
-- Returns {1, edit} committed, {0, edit} duplicate of a committed edit, {2, head} conflict (nothing written),
--         {-1} too late: the caller has given up, {-2} no such document.
--#include numbered-log
local deadline = tonumber(ARGV[7])
if deadline > 0 then
  local now = redis.call('TIME')
  if tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) > deadline then
    return {-1}
  end
end

local field = ARGV[3]
local existing = redis.call('HGET', KEYS[3], field)
if existing then
  local stored = redis.call('ZRANGE', KEYS[2], existing, existing, 'BYSCORE')
  if stored[1] then
    return {0, stored[1]}
  end
end

local head = redis.call('HGET', KEYS[1], 'version')
if not head then
  return {-2}
end
head = tonumber(head)
if head ~= tonumber(ARGV[2]) then
  return {2, head}
end

local version = head + 1
redis.call('HSET', KEYS[1], 'version', version, 'text', ARGV[5])
append_to_log(KEYS[2], KEYS[3], KEYS[4], version, ARGV[4], field, tonumber(ARGV[6]))

redis.call('PUBLISH', ARGV[1], ARGV[4])
return {1, ARGV[4]}
