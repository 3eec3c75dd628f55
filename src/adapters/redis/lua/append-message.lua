-- One sendMessage in one round trip: checks the room and the author's access to it, answers a retry with the
-- stored message, spends a MESSAGE_RATE token, then numbers, stores, trims and publishes the message, atomically,
-- so PUBLISH order is seq order across every instance (pitfalls §6) and nothing is stored without being published
-- or the reverse. The checks run in the order the service promises: access, retry, rate. A retry spends no token.
-- KEYS: 1 seq counter, 2 history zset (score seq, member event JSON), 3 idempotency hash (field -> seq),
--       4 idempotency index zset (score seq, member field; lets trimming forget old fields), 5 room hash,
--       6 the author's MESSAGE_RATE bucket
-- ARGV: 1 channel, 2 idempotency field, 3 event JSON before the seq, 4 event JSON after it, 5 history limit,
--       6 deadline in Redis-clock ms (0: none), 7 author id, 8 author id as JSON.stringify writes it,
--       9 tokens per second, 10 burst, 11 '1' when the field is a client's retry key (a clientMessageId)
-- Returns {1, seq} stored; {0, event} a retry of a stored message; {-1} too late: the caller has given up;
-- {-2} no such room; {-3} private room the author is not in; {-4} rate limited. Only {1} writes anything.
--#include token-bucket
--#include numbered-log

-- Whether `json`, a JSON array of strings as JSON.stringify wrote it, has an element whose JSON is `needle`.
-- Exact, element by element (a substring match could straddle two elements); no cjson, which rejects the
-- escaped lone surrogates JSON.stringify writes.
local function lists(json, needle)
  if not string.find(json, needle, 1, true) then
    return false
  end
  local i = 2
  while string.sub(json, i, i) == '"' do
    local j = i + 1
    while true do
      local k = string.find(json, '[\\"]', j)
      if not k then
        return false
      end
      if string.sub(json, k, k) == '\\' then
        j = k + 2
      else
        j = k
        break
      end
    end
    if j - i + 1 == #needle and string.sub(json, i, j) == needle then
      return true
    end
    i = j + 2
  end
  return false
end

local now = now_ms()
local deadline = tonumber(ARGV[6])
if deadline > 0 and math.floor(now) > deadline then
  return {-1}
end

local room = redis.call('HMGET', KEYS[5], 'private', 'createdBy', 'members')
if not room[2] then
  return {-2}
end
if room[1] == '1' and room[2] ~= ARGV[7] and not lists(room[3] or '[]', ARGV[8]) then
  return {-3}
end

local field = ARGV[2]
if ARGV[11] == '1' then
  local existing = redis.call('HGET', KEYS[3], field)
  if existing then
    local stored = redis.call('ZRANGE', KEYS[2], existing, existing, 'BYSCORE')
    if stored[1] then
      return {0, stored[1]}
    end
  end
end

if take_token(KEYS[6], tonumber(ARGV[9]), tonumber(ARGV[10]), now) == 0 then
  return {-4}
end

local seq = redis.call('INCR', KEYS[1])
local event = ARGV[3] .. seq .. ARGV[4]
append_to_log(KEYS[2], KEYS[3], KEYS[4], seq, event, field, tonumber(ARGV[5]))

redis.call('PUBLISH', ARGV[1], event)
return {1, seq}
