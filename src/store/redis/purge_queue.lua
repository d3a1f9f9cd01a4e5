-- purge_queue: deletes the pending and scheduled tasks of one queue (not running ones).
-- ARGV: prefix, queue. Returns how many.
local q = ARGV[2]
local count = 0
local keys = ready_keys(q)
keys[#keys + 1] = skey(q)
for i, key in ipairs(keys) do
  local kind = i == #keys and 'zset' or 'list'
  if ensure_type(key, kind) then
    local ids = kind == 'zset' and redis.call('ZRANGE', key, 0, -1)
                or redis.call('LRANGE', key, 0, -1)
    for _, id in ipairs(ids) do
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
