-- wait_task, before blocking: ARGV: prefix, id, waiter deadline (ms).
-- Returns -1 when the task does not exist, 1 when it is final (no need to
-- wait), 0 after registering the waiter so that the next final change pushes to done:<id>.
if redis.pcall('HEXISTS', K_FINISHED, ARGV[2]) == 1 then return 1 end  -- finished
local record = redis.pcall('HGET', K_TASKS, ARGV[2])
if type(record) == 'table' then return 1 end  -- unreadable: let get_task report it
if not record then return -1 end
local t = parse(record)
if not t or FINAL[t.s] then return 1 end
redis.call('ZADD', K_WAITING, 'GT', tonumber(ARGV[3]), ARGV[2])
return 0
