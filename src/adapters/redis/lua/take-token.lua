-- One token from a bucket (ROOM_RATE, TYPING_RATE; MESSAGE_RATE is spent inside append-message).
-- KEYS: 1 bucket hash {tokens, at}
-- ARGV: 1 tokens per second, 2 burst (bucket size)
-- Returns 1 when a token was taken, 0 when the bucket is empty (nothing taken).
--#include token-bucket
return take_token(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), now_ms())
