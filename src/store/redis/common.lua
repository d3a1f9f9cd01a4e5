-- Prepended to every runq script when it is loaded: key names and the state changes that
-- several scripts share. ARGV[1] is always the key prefix of the store. Key layout is
-- documented at the top of src/store/redis_store.cpp.
local P = ARGV[1]
local K_QUEUES = P .. 'queues'
local K_TIMERS = P .. 'timers'
local K_DEAD = P .. 'dead'
local K_DEADN = P .. 'deadn'
local K_STATS = P .. 'stats'
local K_TOKEN = P .. 'token'
local K_WAITING = P .. 'waiting'
local K_EXPIRY = P .. 'xb'  -- ZSET of seconds; LIST P x:<second> = ids finished to expire then
local EXPIRY_GRACE_MS = 60000  -- real-time PEXPIRE of a finished task = its ttl + this

local function tkey(id) return P .. 't:' .. id end
local function fkey(id) return P .. 'f:' .. id end
local function xkey(second) return P .. 'x:' .. second end
-- Ready tasks: one LIST per queue and priority, FIFO; reserve pops the highest priority first.
local function qkey(q, priority) return P .. 'q:' .. q .. ':' .. priority end
local READY_ORDER = {'9', '8', '7', '6', '5', '4', '3', '2', '1', '0'}
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

-- A finished task (acked) is one string P f:<id>:
--   state \31 expires \31 deliveries \31 priority \31 progress \31 result
-- kept until `expires` in the caller's time (get_task, enqueue and cleanup check it) and
-- deleted by Redis a grace period after that in real time.
local SEP = '\31'
local function finished_expiry(record)
  return tonumber(string.match(record, '^[^\31]*\31([^\31]*)'))
end

-- Reads fields of a task hash. Returns nil when the key holds something other than a hash.
local function read_task(id, ...)
  local t = redis.pcall('HMGET', tkey(id), ...)
  if t.err then return nil end
  return t
end

-- Wakes one blocked wait_for_work on queue q. The wake list never holds more than one token;
-- a woken worker that leaves work behind re-arms it (see reserve.lua).
local function wake(q)
  local k = wkey(q)
  if redis.call('LLEN', k) == 0 then redis.call('RPUSH', k, '1') end
end

-- Tells wait_task callers that id reached a final state or got a result. The token list
-- outlives the script briefly so a waiter that is between its check and its BLPOP sees it.
local any_waiter = nil  -- whether anyone waits at all: checked once per script
local function notify(id)
  if any_waiter == nil then any_waiter = redis.call('EXISTS', K_WAITING) == 1 end
  if any_waiter and redis.call('ZSCORE', K_WAITING, id) then
    local k = P .. 'done:' .. id
    redis.call('RPUSH', k, '1')
    redis.call('PEXPIRE', k, 60000)
    redis.call('ZREM', K_WAITING, id)
  end
end

-- A key of the wrong type (written by hand, or by another program) is moved aside so that the
-- queue keeps working. Returns false when it had to do so.
local function ensure_type(key, want)
  local t = redis.call('TYPE', key)['ok']
  if t == want or t == 'none' then return true end
  redis.call('RENAME', key, key .. ':corrupt')
  return false
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

local function dead_letter(id, q, reason, now)
  local k = tkey(id)
  redis.call('HSET', k, 's', 'dead', 'why', reason, 'died', now)
  redis.call('HDEL', k, 'w', 'le')
  redis.call('ZADD', K_DEAD, now, id)
  redis.call('HINCRBY', K_DEADN, q, 1)
  notify(id)
end

-- The key t:<id> holds something that is not a task hash: keep it for inspection under
-- another name and dead-letter the id so that it is accounted for.
local function quarantine(id, q, now)
  local k = tkey(id)
  redis.call('RENAME', k, k .. ':corrupt')
  redis.call('HSET', k, 'q', q, 'b', '', 'd', 0, 'md', 1)
  dead_letter(id, q, 'corrupt task record (not a hash); moved to ' .. k .. ':corrupt', now)
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

local ARGS_CHUNK = 4000  -- stays below Lua's unpack() limit

local function zadd_all(key, list)
  for i = 1, #list, ARGS_CHUNK do
    redis.call('ZADD', key, unpack(list, i, math.min(i + ARGS_CHUNK - 1, #list)))
  end
end

local function rpush_all(key, list)
  for i = 1, #list, ARGS_CHUNK do
    redis.call('RPUSH', key, unpack(list, i, math.min(i + ARGS_CHUNK - 1, #list)))
  end
end

function Batch:flush()
  for key, list in pairs(self.ready) do
    ensure_type(key, 'list')
    rpush_all(key, list)
  end
  for q, list in pairs(self.sched) do
    ensure_type(skey(q), 'zset')
    zadd_all(skey(q), list)
    local earliest = list[1]
    for i = 3, #list, 2 do
      if list[i] < earliest then earliest = list[i] end
    end
    redis.call('ZADD', K_TIMERS, 'LT', earliest, q)
  end
  for q in pairs(self.touched) do
    redis.call('SADD', K_QUEUES, q)
    wake(q)
  end
end

-- Adds one task unless its id exists. Returns 1 if added. priority, eta and max_deliveries
-- are the decimal strings sent by the client (validated there): stored as they are.
local function add_task(batch, id, q, priority, eta, max_deliveries, body, now)
  local k = tkey(id)
  if redis.call('EXISTS', k, fkey(id)) > 0 then
    -- A finished task whose result expired (in the caller's time) no longer exists.
    local record = redis.pcall('GET', fkey(id))
    if type(record) ~= 'string' then return 0 end
    local at = finished_expiry(record)
    if not at or at > now or redis.call('EXISTS', k) == 1 then return 0 end
    redis.call('DEL', fkey(id))  -- its entry in an expiry list is skipped by cleanup
  end
  local eta_ms = tonumber(eta)
  if eta_ms <= now then
    redis.call('HSET', k, 'q', q, 'p', priority, 'b', body, 's', 'pending', 'd', '0',
               'md', max_deliveries)
    batch:add_ready(q, priority, id)
  else
    redis.call('HSET', k, 'q', q, 'p', priority, 'b', body, 's', 'scheduled', 'eta', eta,
               'd', '0', 'md', max_deliveries)
    batch:add_scheduled(q, eta_ms, id)
  end
  return 1
end
