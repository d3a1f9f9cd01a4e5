-- purge_dead: deletes every dead letter. ARGV: prefix. Returns how many.
local ids = redis.call('ZRANGE', K_DEAD, 0, -1)
local records = hmget(K_TASKS, ids)
local writes = new_writes()
for n, id in ipairs(ids) do
  local t = parse(records[n])
  if t and t.s == 'dead' then writes:remove(id) end
end
writes:flush()
unlist(ids)
limits_forget(ids)  -- flow_lib.lua
redis.call('DEL', K_DEAD, K_DEADN)
return #ids
