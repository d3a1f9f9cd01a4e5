-- purge_queue: deletes the pending and scheduled tasks of one queue (not running ones).
-- ARGV: prefix, queue. Returns how many.
local q = ARGV[2]
local count = 0
for _, key in ipairs({qkey(q), skey(q)}) do
  if ensure_type(key, 'zset') then
    for _, id in ipairs(redis.call('ZRANGE', key, 0, -1)) do
      local t = read_task(id, 's')
      if t and (t[1] == 'pending' or t[1] == 'scheduled' or t[1] == 'retry') then
        redis.call('DEL', tkey(id))
        notify(id)
        count = count + 1
      end
    end
    redis.call('DEL', key)
  end
end
rearm_timer(q)
return count
