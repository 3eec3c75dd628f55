-- Stores a room and indexes it in one step, so a listing never sees a room without its hash or the reverse.
-- KEYS: 1 room hash, 2 creation counter, 3 public index zset, 4.. private index zset of each member
-- ARGV: 1 id, 2 name, 3 private '1'/'0', 4 createdAt, 5 createdBy, 6 members JSON array
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'name', ARGV[2], 'private', ARGV[3],
  'createdAt', ARGV[4], 'createdBy', ARGV[5], 'members', ARGV[6])
local order = redis.call('INCR', KEYS[2])
if ARGV[3] == '1' then
  for i = 4, #KEYS do
    redis.call('ZADD', KEYS[i], order, ARGV[1])
  end
else
  redis.call('ZADD', KEYS[3], order, ARGV[1])
end
return order
