-- enqueue: adds a batch of tasks; ids that exist are skipped.
-- ARGV: prefix, now, then per task: id, queue, priority, eta, max_deliveries, body.
-- Returns the number of tasks added.
local now = tonumber(ARGV[2])
if #ARGV < 8 then return 0 end
local batch = new_batch()
local added = 0
for i = 3, #ARGV, 6 do
  added = added + add_task(batch, ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4],
                           ARGV[i + 5], now)
end
batch:flush()
return added
