-- purge_dead: deletes every dead letter. ARGV: prefix. Returns how many.
local ids = redis.call('ZRANGE', K_DEAD, 0, -1)
for _, id in ipairs(ids) do
  local t = read_task(id, 's')
  if t and t[1] == 'dead' then redis.call('DEL', tkey(id)) end
end
redis.call('DEL', K_DEAD, K_DEADN)
return #ids
