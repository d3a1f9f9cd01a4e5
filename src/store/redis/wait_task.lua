-- wait_task, before blocking: ARGV: prefix, id, waiter deadline (ms).
-- Returns -1 when the task does not exist, 1 when it is final (no need to
-- wait), 0 after registering the waiter so that the next final change pushes to done:<id>.
if redis.call('EXISTS', fkey(ARGV[2])) == 1 then return 1 end  -- finished
local t = read_task(ARGV[2], 's', 'r')
if not t then return 1 end  -- unreadable record: let get_task report it
if not t[1] then return -1 end
if FINAL[t[1]] then return 1 end
redis.call('ZADD', K_WAITING, 'GT', tonumber(ARGV[3]), ARGV[2])
return 0
