-- A numbered log with retry keys, the shape of a room's history and of a document's edit log:
--   log (zset: score number, member entry), fields (hash: retry key -> number), index (zset: score number, member
--   retry key; lets trimming forget old keys). Included by append-message and commit-edit, so both file and trim
--   by one definition.
-- append_to_log(log, fields, index, number, entry, field, keep): stores `entry` as `number`, files `field` (every
-- append files one, a client's key or a one-off token: it is how a lost reply is settled), then keeps only the
-- newest `keep` entries and the retry keys that still point into them.
local function append_to_log(log, fields, index, number, entry, field, keep)
  redis.call('ZADD', log, number, entry)
  redis.call('HSET', fields, field, number)
  redis.call('ZADD', index, number, field)
  local oldest = number - keep
  if oldest > 0 then
    redis.call('ZREMRANGEBYSCORE', log, '-inf', oldest)
    local stale = redis.call('ZRANGE', index, '-inf', oldest, 'BYSCORE')
    for _, old in ipairs(stale) do
      redis.call('HDEL', fields, old)
    end
    redis.call('ZREMRANGEBYSCORE', index, '-inf', oldest)
  end
end
