-- The top of the runq function library (see redis_store.cpp): key names and the state
-- changes that several functions share. Every function starts with enter(ARGV): ARGV[1] is
-- always the key prefix of the store. Key layout is documented at the top of
-- src/store/redis_store.cpp. This part runs once, when the library is loaded; what depends on
-- the call lives in the locals that enter() sets (Redis runs one function at a time).
local P
local K_TASKS  -- HASH id -> packed record (see below)
local K_BODIES  -- HASH id -> body
local K_RESULTS  -- HASH id -> result of a live task (retry, dead letter)
local K_REASONS  -- HASH id -> why a task is dead
local K_CORRUPT  -- HASH id -> an unreadable record, kept for inspection
local K_FINISHED  -- HASH id -> finished record (see below)
local K_QUEUES
local K_TIMERS
local K_DEAD
local K_DEADN
local K_STATS
local K_TOKEN
local K_WAITING
local K_EXPIRY  -- ZSET of seconds; LIST P x:<second> = ids finished to expire then
local K_LIST  -- ZSET (lex) of every task held: '<enqueued, 15 digits>:<id>' (list_tasks)
local K_LISTMETA  -- HASH id -> enqueued \31 queue \31 task name, to find its members again
local K_REVOKES  -- HASH id -> revoke request of a reserved task: terminate \31 ttl \31 result
local any_waiter  -- whether anyone waits for a task at all: checked once per call
local unique_release  -- unique_release(ids[, started]): the ended tasks' keys go (flow_lib.lua)
local wf_ended  -- workflows: {id, state} of the tasks that ended in this call (workflow_lib.lua)
local function enter(argv)
  if argv[1] ~= P then
    P = argv[1]
    K_TASKS = P .. 'tasks'
    K_BODIES = P .. 'bodies'
    K_RESULTS = P .. 'results'
    K_REASONS = P .. 'reasons'
    K_CORRUPT = P .. 'corrupt'
    K_FINISHED = P .. 'finished'
    K_QUEUES = P .. 'queues'
    K_TIMERS = P .. 'timers'
    K_DEAD = P .. 'dead'
    K_DEADN = P .. 'deadn'
    K_STATS = P .. 'stats'
    K_TOKEN = P .. 'token'
    K_WAITING = P .. 'waiting'
    K_EXPIRY = P .. 'xb'
    K_LIST = P .. 'ls'
    K_LISTMETA = P .. 'lsm'
    K_REVOKES = P .. 'revokes'
  end
  any_waiter = nil
  wf_ended = {}
end

local function xkey(second) return P .. 'x:' .. second end
-- Ready tasks: one LIST per queue and priority, FIFO; reserve pops the highest priority first.
local function qkey(q, priority) return P .. 'q:' .. q .. ':' .. priority end
local READY_ORDER = {'9', '8', '7', '6', '5', '4', '3', '2', '1', '0'}
local PRIORITIES = {['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1,
                    ['7'] = 1, ['8'] = 1, ['9'] = 1}
local function ready_keys(q)
  local keys = {}
  for i, p in ipairs(READY_ORDER) do keys[i] = qkey(q, p) end
  return keys
end
local function has_ready(q) return redis.call('EXISTS', unpack(ready_keys(q))) > 0 end
local function skey(q) return P .. 's:' .. q end
local function lkey(q) return P .. 'l:' .. q end
local function wkey(q) return P .. 'w:' .. q end

local FINAL = {success = true, failure = true, revoked = true, expired = true, dead = true}
local STATES = {pending = true, scheduled = true, reserved = true, retry = true, success = true,
                failure = true, revoked = true, expired = true, dead = true}

-- A finished (acked) task is one field of P finished, the record
--   state \31 expires \31 deliveries \31 priority \31 progress \31 result
-- kept until `expires` in the caller's time: get_task, enqueue and cleanup check it, and
-- cleanup deletes it (P xb and P x:<second> index the ids by second of expiry).
local SEP = '\31'
local function finished_expiry(record)
  return tonumber(string.match(record, '^[^\31]*\31([^\31]*)'))
end

-- A live task is one field of P tasks, the record
--   state \31 deliveries \31 token \31 lease expiry \31 priority \31 max_deliveries \31 eta
--   \31 progress \31 #queue \31 queue worker
-- (queue and worker are free text: the queue's length separates them). Empty = unset. The
-- fields a delivery changes come first, so reserve rewrites only the head of a record.
-- requests.cpp writes the same form for new tasks.
local RECORD = '^([^\31]*)\31([^\31]*)\31([^\31]*)\31([^\31]*)\31([^\31]*)\31([^\31]*)\31' ..
               '([^\31]*)\31([^\31]*)\31(%d+)\31(.*)$'

-- A record as a table, or nil when it is not one (garbage, or missing).
local function parse(record)
  if type(record) ~= 'string' then return nil end
  local s, d, tok, le, p, md, eta, pr, ql, rest = string.match(record, RECORD)
  if not s then return nil end
  ql = tonumber(ql)
  if ql > #rest then return nil end
  return {s = s, p = p, d = d, md = md, eta = eta, tok = tok, le = le, pr = pr,
          q = string.sub(rest, 1, ql), w = string.sub(rest, ql + 1)}
end

local function pack(t)
  return t.s .. SEP .. t.d .. SEP .. t.tok .. SEP .. t.le .. SEP .. t.p .. SEP .. t.md .. SEP
         .. t.eta .. SEP .. t.pr .. SEP .. #t.q .. SEP .. t.q .. t.w
end

-- The stored priority, usable in a ready list's name.
local function prio(t) return PRIORITIES[t.p] and t.p or '0' end

local ARGS_CHUNK = 4000  -- stays below Lua's unpack() limit; even, so pairs stay whole

-- A key of the wrong type (written by hand, or by another program) is moved aside so that the
-- queue keeps working. Returns false when it had to do so.
local function ensure_type(key, want)
  local t = redis.call('TYPE', key)['ok']
  if t == want or t == 'none' then return true end
  redis.call('RENAME', key, key .. ':corrupt')
  return false
end

-- cmd on hash `key` with the items list[i..j], in chunks; a key that is not a hash is moved
-- aside first. Returns the concatenated replies of array replies (HMGET).
local function hash_call(cmd, key, list, i, j)
  local out = {}
  i = i or 1
  j = j or #list
  for a = i, j, ARGS_CHUNK do
    local r = redis.pcall(cmd, key, unpack(list, a, math.min(a + ARGS_CHUNK - 1, j)))
    if type(r) == 'table' and r.err then
      ensure_type(key, 'hash')
      r = redis.call(cmd, key, unpack(list, a, math.min(a + ARGS_CHUNK - 1, j)))
    end
    if type(r) == 'table' then
      for _, v in ipairs(r) do out[#out + 1] = v end
      -- ipairs stops at the first nil-valued hole; HMGET misses are false, so none
    end
  end
  return out
end

local function hmget(key, ids) return hash_call('HMGET', key, ids) end

-- Writes and deletes on the task hashes, collected during a script and applied at its end.
local Writes = {}
Writes.__index = Writes
local function new_writes()
  return setmetatable({tasks = {}, bodies = {}, results = {}, reasons = {}, gone = {}}, Writes)
end
function Writes:put(id, t)
  local l = self.tasks
  local n = #l
  l[n + 1] = id
  l[n + 2] = pack(t)
end
function Writes:set(kind, id, value)
  local l = self[kind]
  local n = #l
  l[n + 1] = id
  l[n + 2] = value
end
function Writes:remove(id) self.gone[#self.gone + 1] = id end
function Writes:flush()
  if #self.gone > 0 then
    hash_call('HDEL', K_TASKS, self.gone)
    hash_call('HDEL', K_BODIES, self.gone)
    -- results and reasons are rare: most batches find neither hash
    for _, key in ipairs({K_RESULTS, K_REASONS}) do
      if redis.call('EXISTS', key) == 1 then hash_call('HDEL', key, self.gone) end
    end
  end
  if #self.tasks > 0 then hash_call('HSET', K_TASKS, self.tasks) end
  if #self.bodies > 0 then hash_call('HSET', K_BODIES, self.bodies) end
  if #self.results > 0 then hash_call('HSET', K_RESULTS, self.results) end
  if #self.reasons > 0 then hash_call('HSET', K_REASONS, self.reasons) end
end

-- Wakes one blocked wait_for_work on queue q. The wake list never holds more than one token;
-- a woken worker that leaves work behind re-arms it (see reserve.lua).
local function wake(q)
  local k = wkey(q)
  if redis.call('LLEN', k) == 0 then redis.call('RPUSH', k, '1') end
end

-- Tells wait_task callers that id reached a final state or got a result. The token list
-- outlives the script briefly so a waiter that is between its check and its BLPOP sees it.
local function notify(id)
  if any_waiter == nil then any_waiter = redis.call('EXISTS', K_WAITING) == 1 end
  if any_waiter and redis.call('ZSCORE', K_WAITING, id) then
    local k = P .. 'done:' .. id
    redis.call('RPUSH', k, '1')
    redis.call('PEXPIRE', k, 60000)
    redis.call('ZREM', K_WAITING, id)
  end
end

-- The queue's timer is a lower bound of its next scheduled eta or lease expiry: reserve
-- looks only at queues whose timer is due. Recomputed exactly after housekeeping.
local function rearm_timer(q)
  local s = redis.call('ZRANGE', skey(q), 0, 0, 'WITHSCORES')
  local l = redis.call('ZRANGE', lkey(q), 0, 0, 'WITHSCORES')
  local next = s[2] and tonumber(s[2])
  if l[2] and (not next or tonumber(l[2]) < next) then next = tonumber(l[2]) end
  if next then
    redis.call('ZADD', K_TIMERS, next, q)
  else
    redis.call('ZREM', K_TIMERS, q)
  end
end

-- t: the task's record (a table); it becomes dead, written with `writes`.
local function dead_letter(writes, id, t, reason, now)
  t.s, t.w, t.le = 'dead', '', ''
  writes:put(id, t)
  writes:set('reasons', id, reason)
  redis.call('ZADD', K_DEAD, now, id)
  redis.call('HINCRBY', K_DEADN, t.q, 1)
  unique_release({id})
  notify(id)
  wf_ended[#wf_ended + 1] = {id, 'dead'}
end

-- The record of id in queue q cannot be read: keep it for inspection in P corrupt and
-- dead-letter the id so that it is accounted for.
local function quarantine(writes, id, q, record, now)
  local t = {s = 'dead', p = '0', d = '0', md = '1', eta = '', tok = '', le = '', pr = '', q = q,
             w = ''}
  local why = 'corrupt task record: unreadable'
  if type(record) == 'string' then
    redis.call('HSET', K_CORRUPT, id, record)
    why = why .. '; kept in ' .. K_CORRUPT
  end
  dead_letter(writes, id, t, why, now)
end

-- Batched additions to ready lists and scheduled sets, flushed once per script.
local Batch = {}
Batch.__index = Batch
local function new_batch()
  return setmetatable({ready = {}, sched = {}, touched = {}}, Batch)
end

local function list_of(map, key)
  local list = map[key]
  if not list then list = {}; map[key] = list end
  return list
end

-- priority: the stored decimal string '0'..'9'
function Batch:add_ready(q, priority, id)
  local list = list_of(self.ready, qkey(q, priority))
  list[#list + 1] = id
  self.touched[q] = true
end
function Batch:add_scheduled(q, eta, id)
  local list = list_of(self.sched, q)
  list[#list + 1] = eta
  list[#list + 1] = id
  self.touched[q] = true
end

-- cmd on `key` with the items list[i..j] (default: all), in chunks.
local function call_chunked(cmd, key, list, i, j)
  j = j or #list
  for a = i or 1, j, ARGS_CHUNK do
    redis.call(cmd, key, unpack(list, a, math.min(a + ARGS_CHUNK - 1, j)))
  end
end
local function zadd_all(key, list, i, j) call_chunked('ZADD', key, list, i, j) end
local function rpush_all(key, list, i, j) call_chunked('RPUSH', key, list, i, j) end

local function zadd_scheduled(q, list, i, j)
  ensure_type(skey(q), 'zset')
  zadd_all(skey(q), list, i, j)
  local earliest = tonumber(list[i or 1])
  for a = (i or 1) + 2, j or #list, 2 do
    local eta = tonumber(list[a])
    if eta < earliest then earliest = eta end
  end
  redis.call('ZADD', K_TIMERS, 'LT', earliest, q)
end

local function touch(q)
  redis.call('SADD', K_QUEUES, q)
  wake(q)
end

function Batch:flush()
  for key, list in pairs(self.ready) do
    ensure_type(key, 'list')
    rpush_all(key, list)
  end
  for q, list in pairs(self.sched) do zadd_scheduled(q, list) end
  for q in pairs(self.touched) do touch(q) end
end

-- Whether a finished record keeps id from being enqueued again. One whose result expired (in
-- the caller's time) no longer counts and is deleted (cleanup skips its index entry).
local function finished_blocks(id, record, now)
  if not record then return false end
  local at = finished_expiry(record)
  if not at or at > now then return true end
  redis.call('HDEL', K_FINISHED, id)
  return false
end

-- Adds one task unless its id exists (one at a time: claim_tick). Returns 1 if added.
-- priority, eta and max_deliveries are the decimal strings sent by the client (validated
-- there): stored as they are.
local function add_task(batch, writes, id, q, priority, eta, max_deliveries, body, now)
  local live = hash_call('HMGET', K_TASKS, {id})
  if live[1] or finished_blocks(id, hash_call('HMGET', K_FINISHED, {id})[1], now) then
    return 0
  end
  local t = {s = 'pending', p = priority, d = '0', md = max_deliveries, eta = '', tok = '',
             le = '', pr = '', q = q, w = ''}
  local eta_ms = tonumber(eta)
  if eta_ms <= now then
    batch:add_ready(q, priority, id)
  else
    t.s, t.eta = 'scheduled', eta
    batch:add_scheduled(q, eta_ms, id)
  end
  writes:put(id, t)
  writes:set('bodies', id, body)
  return 1
end

-- The task list (list_tasks): one member per task in K_LIST and in the per-queue and
-- per-task-name sets, all scored 0 and ordered by text, i.e. by (enqueue time, id).
local function lqkey(q) return P .. 'ls:q:' .. q end
local function ltkey(t) return P .. 'ls:t:' .. t end
local function list_member(enqueued, id) return string.format('%015d', enqueued) .. ':' .. id end

-- Removes the list entries of ids whose task is gone for good (or enqueued again).
local function unlist(ids)
  if #ids == 0 then return end
  local metas = hmget(K_LISTMETA, ids)
  for n, id in ipairs(ids) do
    local m = metas[n]
    if m then
      local e, q, t = string.match(m, '^(%d+)\31([^\31]*)\31(.*)$')
      if e then
        local member = list_member(tonumber(e), id)
        redis.call('ZREM', K_LIST, member)
        redis.call('ZREM', lqkey(q), member)
        if t ~= '' then redis.call('ZREM', ltkey(t), member) end
      end
    end
  end
  hash_call('HDEL', K_LISTMETA, ids)
end

-- Lists tasks just added at `now`: ids[i] with metas[i] = queue \31 task name. `again` lists
-- the ids that had an expired finished record, whose old entries go first (nil: all of ids).
local function list_add(ids, metas, now, again)
  if #ids == 0 then return end
  unlist(again or ids)
  local prefix = string.format('%015d', now) .. ':'
  local all, by_queue, by_task, meta = {}, {}, {}, {}
  for n, id in ipairs(ids) do
    local q, t = string.match(metas[n], '^([^\31]*)\31(.*)$')
    local member = prefix .. id
    all[#all + 1] = 0
    all[#all + 1] = member
    local lq = list_of(by_queue, q)
    lq[#lq + 1] = 0
    lq[#lq + 1] = member
    if t ~= '' then
      local lt = list_of(by_task, t)
      lt[#lt + 1] = 0
      lt[#lt + 1] = member
    end
    meta[#meta + 1] = id
    meta[#meta + 1] = now .. SEP .. metas[n]
  end
  zadd_all(K_LIST, all)
  for q, l in pairs(by_queue) do zadd_all(lqkey(q), l) end
  for t, l in pairs(by_task) do zadd_all(ltkey(t), l) end
  hash_call('HSET', K_LISTMETA, meta)
end

-- Ends live task id (record t) in final `state` as an ack does: the live record and body go
-- (with `writes`), a finished record stays until now + ttl. Revoke only: it writes at once.
local function finish_now(writes, id, t, state, result, ttl, now)
  ttl = math.max(ttl, 1)
  local expires = now + ttl
  writes:remove(id)
  redis.call('HSET', K_FINISHED, id, state .. SEP .. tostring(expires) .. SEP .. t.d .. SEP ..
             t.p .. SEP .. t.pr .. SEP .. result)
  local second = math.floor(expires / 1000)
  redis.call('RPUSH', xkey(second), id)
  redis.call('ZADD', K_EXPIRY, 'NX', second, second)
  redis.call('HINCRBY', K_STATS, 'completed', 1)
  redis.call('HDEL', K_REVOKES, id)
  unique_release({id})
  notify(id)
  wf_ended[#wf_ended + 1] = {id, state}
end

-- A revoke request as stored in P revokes: terminate flag ('0'/'1'), result ttl, result.
local function parse_revoke(value)
  local terminate, ttl, result = string.match(value, '^([^\31]*)\31([^\31]*)\31(.*)$')
  return terminate, tonumber(ttl) or 86400000, result or ''
end
