-- wait_for_work, before blocking: is anything ready now, and when is the next eta or lease
-- expiry on these queues? Read-only.
-- ARGV: prefix, queue... Returns -1 when a queue has ready tasks, else the earliest time
-- (ms) something becomes due, or -2 when nothing is scheduled or leased.
local next = nil
for i = 2, #ARGV do
  local q = ARGV[i]
  if has_ready(q) and not queue_paused(q) then return -1 end
  for _, key in ipairs({skey(q), lkey(q)}) do
    local head = redis.pcall('ZRANGE', key, 0, 0, 'WITHSCORES')
    if not head.err and head[2] then
      local at = tonumber(head[2])
      if not next or at < next then next = at end
    end
  end
end
return next or -2
