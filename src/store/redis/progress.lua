-- set_progress: ARGV: prefix, id, token, fraction.
-- Returns 1 when recorded, 0 when the holder is stale, -1 when the task does not exist.
local record = hash_call('HMGET', K_TASKS, {ARGV[2]})[1]
local t = parse(record)
if not t then
  if record then return 0 end  -- unreadable: nobody holds it
  if redis.call('HEXISTS', K_FINISHED, ARGV[2]) == 1 then return 0 end  -- finished: no holder
  return -1
end
if t.s ~= 'reserved' or t.tok ~= ARGV[3] then return 0 end
t.pr = ARGV[4]
redis.call('HSET', K_TASKS, ARGV[2], pack(t))
return 1
