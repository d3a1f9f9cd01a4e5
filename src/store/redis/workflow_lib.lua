-- Workflow helpers of the function library (chords, dependencies, callbacks): loaded right after
-- common.lua, so they see its locals and the functions below can use them.
--
-- Keys: P wf:wait HASH id -> 'remaining \31 allow' for each WAITING task (exists only while a
-- task waits, which gates all the work below); P wf:deps:<dep> SET of ids waiting on <dep>;
-- P wf:canceled HASH id -> why a CANCELED task was canceled (its state and expiry are a
-- P finished record, as for every finished task). A WAITING task is a P tasks record in state
-- 'waiting' (eta kept), in no queue.
--
-- Linked tasks (dependencies, or added canceled) and settlements' follow-ups travel in a
-- trailing ARGV section: ..., section..., '\31wf', <index of the section's first item>. Each
-- task is 10 items: id, queue, priority, eta, max_deliveries, body, task name, dependencies
-- joined by \31, allow_dependency_failure ('1'/'0'), canceled reason ('' = not canceled).
-- In settle, the section is groups of: settlement ordinal, task count, tasks.
local WF_FIELDS = 10
local CANCELED_TTL = 86400000
local function wf_wait_key() return P .. 'wf:wait' end
local function wf_deps_key(id) return P .. 'wf:deps:' .. id end

-- The end of the regular arguments, and the section's first and last items (nil: none).
local function wf_split(argv)
  local n = #argv
  if n >= 2 and argv[n - 1] == '\31wf' then
    local at = tonumber(argv[n])
    return at - 1, at, n - 2
  end
  return n, nil, nil
end

local function split_ids(text)
  local out = {}
  if text == '' then return out end
  for id in string.gmatch(text, '[^\31]+') do out[#out + 1] = id end
  return out
end

-- The state of id as a dependency sees it, or nil when the store does not hold it.
local function wf_state(id, now)
  -- Only the state (a record's first field) is needed: no full parse per dependency.
  local rec = redis.call('HGET', K_TASKS, id)
  local s = type(rec) == 'string' and string.match(rec, '^([^\31]+)\31')
  if s then return s end
  local fin = redis.call('HGET', K_FINISHED, id)
  if fin then
    local at = finished_expiry(fin)
    if at and at > now then return string.match(fin, '^([^\31]*)') end
  end
  return nil
end

local function is_wf_final(state) return FINAL[state] or state == 'canceled' end

-- Why a task waiting on dep is canceled: dep's own reason when dep was canceled.
local function wf_reason(dep, state)
  if state == 'canceled' then return redis.call('HGET', P .. 'wf:canceled', dep) or '' end
  return 'dependency ' .. dep .. ' ended ' .. state
end

-- Ends id CANCELED: a finished record kept for the default result ttl, and its reason.
local function wf_finish_canceled(id, d, p, reason, now)
  local expires = now + CANCELED_TTL
  redis.call('HSET', K_FINISHED, id, 'canceled' .. SEP .. tostring(expires) .. SEP .. d .. SEP ..
             p .. SEP .. '' .. SEP .. '')
  local second = math.floor(expires / 1000)
  redis.call('RPUSH', xkey(second), id)
  redis.call('ZADD', K_EXPIRY, 'NX', second, second)
  redis.call('HSET', P .. 'wf:canceled', id, reason)
  notify(id)
end

-- Every dependency named in the section exists, or comes earlier in the batch (`batch`: ids
-- already in it). Returns an error text, or nil.
local function wf_check_tasks(argv, i, j, batch, now)
  for a = i, j, WF_FIELDS do
    local id = argv[a]
    for _, dep in ipairs(split_ids(argv[a + 7])) do
      if not batch[dep] and not wf_state(dep, now) then
        return "enqueueing task '" .. id .. "': dependency '" .. dep ..
               "' does not exist (never enqueued, or its record expired)"
      end
    end
    batch[id] = true
  end
  return nil
end

-- Task id ended in final `state`: counts it for every task waiting on it, queueing those it
-- was the last for and cancelling (transitively) those it fails.
local function wf_resolve(id, state, now)
  local ended = {{id, state}}
  local batch = new_batch()
  while #ended > 0 do
    local e = table.remove(ended)
    local k = wf_deps_key(e[1])
    local waiters = redis.call('SMEMBERS', k)
    if #waiters > 0 then redis.call('DEL', k) end
    for _, w in ipairs(waiters) do
      local wait = redis.call('HGET', wf_wait_key(), w)
      if wait then
        local remaining, allow = string.match(wait, '^(%d+)\31(.*)$')
        remaining = tonumber(remaining) or 1
        if e[2] == 'success' or allow == '1' then
          if remaining > 1 then
            redis.call('HSET', wf_wait_key(), w, (remaining - 1) .. SEP .. allow)
          else
            redis.call('HDEL', wf_wait_key(), w)
            local t = parse(redis.call('HGET', K_TASKS, w))
            if t and t.s == 'waiting' then
              local eta = tonumber(t.eta)
              if eta and eta > now then
                t.s = 'scheduled'
                batch:add_scheduled(t.q, eta, w)
              else
                t.s, t.eta = 'pending', ''
                batch:add_ready(t.q, prio(t), w)
              end
              redis.call('HSET', K_TASKS, w, pack(t))
            end
          end
        else
          redis.call('HDEL', wf_wait_key(), w)
          local t = parse(redis.call('HGET', K_TASKS, w))
          redis.call('HDEL', K_TASKS, w)
          redis.call('HDEL', K_BODIES, w)
          wf_finish_canceled(w, t and t.d or '0', t and t.p or '0', wf_reason(e[1], e[2]), now)
          ended[#ended + 1] = {w, 'canceled'}
        end
      end
    end
  end
  batch:flush()
end

-- Tasks that ended during this call ({id, state} pairs, from common.lua's hooks and the
-- scripts): resolved once the call's own writes are flushed.
local function wf_after(ended, now)
  if #ended == 0 or redis.call('EXISTS', wf_wait_key()) == 0 then return end
  for _, e in ipairs(ended) do wf_resolve(e[1], e[2], now) end
end

-- Adds the linked task at argv[a..a+9] unless its id exists. Returns 1 if added.
local function wf_add(argv, a, now)
  local id, q, priority, eta, md, body, name = argv[a], argv[a + 1], argv[a + 2], argv[a + 3],
                                               argv[a + 4], argv[a + 5], argv[a + 6]
  local allow, cancel = argv[a + 8], argv[a + 9]
  if redis.call('HEXISTS', K_TASKS, id) == 1 or
     finished_blocks(id, redis.call('HGET', K_FINISHED, id), now) then
    return 0
  end
  local open, seen = {}, {}
  if cancel == '' then
    for _, dep in ipairs(split_ids(argv[a + 7])) do
      if not seen[dep] then
        seen[dep] = true
        local state = wf_state(dep, now)
        if not state then
          cancel = 'dependency ' .. dep .. ' no longer exists'
          break
        elseif not is_wf_final(state) then
          open[#open + 1] = dep
        elseif state ~= 'success' and allow ~= '1' then
          cancel = wf_reason(dep, state)
          break
        end
      end
    end
  end
  list_add({id}, {q .. SEP .. name}, now)
  if cancel ~= '' then
    wf_finish_canceled(id, '0', priority, cancel, now)
    wf_after({{id, 'canceled'}}, now)
    return 1
  end
  if #open == 0 then
    local batch, writes = new_batch(), new_writes()
    add_task(batch, writes, id, q, priority, eta, md, body, now)
    writes:flush()
    batch:flush()
    return 1
  end
  for _, dep in ipairs(open) do redis.call('SADD', wf_deps_key(dep), id) end
  redis.call('HSET', wf_wait_key(), id, #open .. SEP .. allow)
  local t = {s = 'waiting', p = priority, d = '0', md = md, eta = eta, tok = '', le = '',
             pr = '', q = q, w = ''}
  redis.call('HSET', K_TASKS, id, pack(t))
  redis.call('HSET', K_BODIES, id, body)
  return 1
end
