-- enqueue_unique: adds a batch in which some tasks have a unique key (Store::enqueue_unique),
-- one task at a time, so that a key taken by an earlier task of the batch holds for the later
-- ones. A batch without keys goes to enqueue.lua instead.
-- ARGV: prefix, now, then per task 11 items: id, queue, priority, eta, max_deliveries, body,
-- task name, unique key ('' = none), for_ms, until_start ('0'/'1'), limits ('' = none; as
-- P tlimits holds them, flow_lib.lua).
-- Returns one string per task: the id of the task holding its key when it was not added for
-- that reason, else '' (added, or its id exists).
local now = tonumber(ARGV[2])
local adding = {}
for i = 3, #ARGV, 11 do adding[ARGV[i + 1]] = (adding[ARGV[i + 1]] or 0) + 1 end
local refused = check_room(adding)  -- a bounded queue without room (flow_lib.lua)
if refused then return refused end
local batch, writes = new_batch(), new_writes()
local ids, metas, out, added = {}, {}, {}, {}
for i = 3, #ARGV, 11 do
  local id, q, key = ARGV[i], ARGV[i + 1], ARGV[i + 7]
  local holder = key ~= '' and unique_holder(key, id, now)
  if holder then
    out[#out + 1] = holder
  else
    out[#out + 1] = ''
    if not added[id] and
       add_task(batch, writes, id, q, ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5], now) == 1
    then
      added[id] = true
      ids[#ids + 1] = id
      metas[#metas + 1] = q .. SEP .. ARGV[i + 6]
      if key ~= '' then unique_take(key, id, now, tonumber(ARGV[i + 8]), ARGV[i + 9]) end
      if ARGV[i + 10] ~= '' then redis.call('HSET', tlimits_key(), id, ARGV[i + 10]) end
    end
  end
end
writes:flush()
batch:flush()
list_add(ids, metas, now)
return out
