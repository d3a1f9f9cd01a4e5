-- purge_queue: deletes the pending and scheduled tasks of one queue (not running ones).
-- ARGV: prefix, queue. Returns how many.
local q = ARGV[2]
local count = 0
local keys = ready_keys(q)
keys[#keys + 1] = skey(q)
local writes = new_writes()
local removed = {}  -- an id listed twice is counted once
for i, key in ipairs(keys) do
  local kind = i == #keys and 'zset' or 'list'
  if ensure_type(key, kind) then
    local ids = kind == 'zset' and redis.call('ZRANGE', key, 0, -1)
                or redis.call('LRANGE', key, 0, -1)
    local records = hmget(K_TASKS, ids)
    for n, id in ipairs(ids) do
      local t = parse(records[n])
      if t and not removed[id] and (t.s == 'pending' or t.s == 'scheduled' or t.s == 'retry') then
        removed[id] = true
        writes:remove(id)
        notify(id)
        count = count + 1
      end
    end
    redis.call('DEL', key)
  end
end
writes:flush()
local gone = {}
for id in pairs(removed) do gone[#gone + 1] = id end
unlist(gone)
limits_forget(gone)  -- flow_lib.lua
unique_release(gone)
rearm_timer(q)
return count
