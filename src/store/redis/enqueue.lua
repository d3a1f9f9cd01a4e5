-- enqueue: adds a batch of tasks; ids that exist are skipped. The client lays the batch out
-- so that, when no id exists yet (the common case), every write is one call on a range of
-- ARGV, with no table built per task.
-- ARGV: prefix, now, n, then
--   n ids; n (id, record) pairs; n (id, body) pairs; n (id, queue \31 task name) pairs;
--   then groups up to the end, each: 'r', queue, priority, m, m ids (ready, FIFO)
--                                  or 's', queue, earliest eta, m, m (eta, id) pairs.
-- The ids are distinct (the client drops repeats: the first one wins). Returns how many
-- tasks were added.
local now = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local ARGV_END, WF_AT, WF_END = wf_split(ARGV)
-- Linked tasks (workflows) go last; their dependencies must exist before anything is written.
local function linked()
  if not WF_AT then return 0 end
  local added = 0
  for a = WF_AT, WF_END, WF_FIELDS do added = added + wf_add(ARGV, a, now) end
  return added
end
if WF_AT then
  local batch = {}
  for i = 4, 3 + n do batch[ARGV[i]] = true end
  local err = wf_check_tasks(ARGV, WF_AT, WF_END, batch, now)
  if err then return redis.error_reply(err) end
end
local ids_at = 4
local records_at = ids_at + n
local bodies_at = records_at + 2 * n
local metas_at = bodies_at + 2 * n
local groups_at = metas_at + 2 * n
-- A bounded queue without room refuses the whole batch, linked tasks included (flow_lib.lua).
local refused = enqueue_room(ARGV, groups_at, ARGV_END, WF_AT, WF_END)
if refused then return refused end
if n == 0 then return linked() end

-- Which ids exist: live (any record, even garbage) or finished with a result not yet expired.
local skip = nil
local again = {}  -- ids whose finished record expired: enqueued again
local live = hash_call('HMGET', K_TASKS, ARGV, ids_at, records_at - 1)
local finished = {}
if redis.call('EXISTS', K_FINISHED) == 1 then
  finished = hash_call('HMGET', K_FINISHED, ARGV, ids_at, records_at - 1)
end
for i = 1, n do
  local id = ARGV[ids_at + i - 1]
  if live[i] or (finished[i] and finished_blocks(id, finished[i], now)) then
    skip = skip or {}
    skip[id] = true
  elseif finished[i] then
    again[#again + 1] = id
  end
end

-- The argument range [i, j] of pairs (stride 2) or ids, without the skipped ids: as it is
-- when nothing is skipped, else copied. `at` is the offset of the id in each item.
local function kept(i, j, stride, at)
  if not skip then return ARGV, i, j end
  local out = {}
  for a = i, j, stride do
    if not skip[ARGV[a + at]] then
      for b = 0, stride - 1 do out[#out + 1] = ARGV[a + b] end
    end
  end
  return out, 1, #out
end

local list, i, j = kept(records_at, bodies_at - 1, 2, 0)
if j < i then return linked() end
hash_call('HSET', K_TASKS, list, i, j)
hash_call('HSET', K_BODIES, kept(bodies_at, metas_at - 1, 2, 0))
local added = (j - i + 1) / 2
do
  local metas, a, b = kept(metas_at, groups_at - 1, 2, 0)
  local ids, values = {}, {}
  for k = a, b, 2 do
    ids[#ids + 1] = metas[k]
    values[#values + 1] = metas[k + 1]
  end
  list_add(ids, values, now, again)
end

local g = groups_at
while g <= ARGV_END do
  local kind, q, m = ARGV[g], ARGV[g + 1], tonumber(ARGV[g + 3])
  local first = g + 4
  if kind == 'r' then
    local key = qkey(q, ARGV[g + 2])
    local items, a, b = kept(first, first + m - 1, 1, 0)
    if b >= a then
      ensure_type(key, 'list')
      rpush_all(key, items, a, b)
      touch(q)
    end
    g = first + m
  else
    local items, a, b = kept(first, first + 2 * m - 1, 2, 1)
    if b >= a then
      if skip then
        zadd_scheduled(q, items, a, b)
      else
        ensure_type(skey(q), 'zset')
        zadd_all(skey(q), items, a, b)
        redis.call('ZADD', K_TIMERS, 'LT', ARGV[g + 2], q)
      end
      touch(q)
    end
    g = first + 2 * m
  end
end
return added + linked()
