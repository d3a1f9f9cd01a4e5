-- list_tasks: one walk of a task list index, newest first. Read-only.
-- ARGV: prefix, now, index ('a' all, 'q' queue, 't' task name), its queue or name,
--   enqueued_from, bound_enqueued, bound_id, budget. Lists members below
--   (bound_enqueued, bound_id) (bound_id '': below bound_enqueued) and at or after
--   enqueued_from, at most `budget`.
-- Returns a flat array per member: member, state ('' when the task is gone), queue, task name.
local now, kind, name = tonumber(ARGV[2]), ARGV[3], ARGV[4]
local key = kind == 'q' and lqkey(name) or (kind == 't' and ltkey(name) or K_LIST)
local max = '(' .. string.format('%015d', tonumber(ARGV[6])) .. ':' .. ARGV[7]
local min = '[' .. string.format('%015d', tonumber(ARGV[5]))
local members = redis.call('ZREVRANGEBYLEX', key, max, min, 'LIMIT', 0, tonumber(ARGV[8]))
local ids = {}
for n, m in ipairs(members) do ids[n] = string.sub(m, 17) end
local live, finished, metas = hmget(K_TASKS, ids), hmget(K_FINISHED, ids), hmget(K_LISTMETA, ids)
local out = {}
for n, m in ipairs(members) do
  local state = ''
  local t = parse(live[n])
  if t then
    state = t.s
  elseif finished[n] and (finished_expiry(finished[n]) or 0) > now then
    state = string.match(finished[n], '^([^\31]*)')
  end
  local q, task = '', ''
  if metas[n] then q, task = string.match(metas[n], '^%d+\31([^\31]*)\31(.*)$') end
  out[#out + 1] = m
  out[#out + 1] = state
  out[#out + 1] = q or ''
  out[#out + 1] = task or ''
end
return out
