-- settle: applies a batch of settlements from the current lease holders.
-- ARGV: prefix, now, then per settlement: outcome, id, token, state, result, number, text
--   outcome 'a' ack (state = final state name, number = result ttl ms)
--           'r' retry (number = retry_at, text = new body or '')
--           'd' dead letter (text = reason)
--           'l' release
-- Returns one flag per settlement: 1 applied, 0 refused because the holder is stale.
local now = tonumber(ARGV[2])
local ARGV_END, WF_AT, WF_END = wf_split(ARGV)
if WF_AT then  -- follow-ups: their dependencies must exist before anything is written
  local batch, a = {}, WF_AT
  while a <= WF_END do
    local m = tonumber(ARGV[a + 1])
    local err = wf_check_tasks(ARGV, a + 2, a + 1 + m * WF_FIELDS, batch, now)
    if err then return redis.error_reply(err) end
    a = a + 2 + m * WF_FIELDS
  end
end
local flags = {}
local completed, failed, duplicates = 0, 0, 0
local unleased = {}  -- queue -> ids whose lease ends here
local expiring = {}  -- second of expiry -> finished ids (cleanup's index, see common.lua)
local writes = new_writes()

local finished = {}  -- (id, finished record) pairs
local expires_text = {}  -- ttl -> expiry as text: acks of a batch mostly share their ttl
local ended = {}  -- acked ids: their unique keys go

-- The live record (and its body) goes; a compact finished record stays until its ttl.
-- d, p, pr: deliveries, priority, progress as stored.
local function ack(id, d, p, pr, state, result, ttl)
  ttl = math.max(ttl, 1)
  local expires = expires_text[ttl]
  if not expires then
    expires = tostring(now + ttl)
    expires_text[ttl] = expires
  end
  writes:remove(id)
  local n = #finished
  finished[n + 1] = id
  finished[n + 2] = state .. SEP .. expires .. SEP .. d .. SEP .. p .. SEP .. pr .. SEP .. result
  local second = math.floor((now + ttl) / 1000)
  local ids = expiring[second]
  if not ids then ids = {}; expiring[second] = ids end
  ids[#ids + 1] = id
  completed = completed + 1
  if state == 'failure' then failed = failed + 1 end
  ended[#ended + 1] = id
  notify(id)
  wf_ended[#wf_ended + 1] = {id, state}
end

local function retry(id, t, result, retry_at, body)
  t.s, t.eta, t.d, t.w, t.le = 'retry', retry_at, 0, '', ''
  writes:put(id, t)
  if body ~= '' then writes:set('bodies', id, body) end
  if result ~= '' then
    writes:set('results', id, result)
    notify(id)
  end
  ensure_type(skey(t.q), 'zset')
  redis.call('ZADD', skey(t.q), retry_at, id)
  redis.call('ZADD', K_TIMERS, 'LT', retry_at, t.q)
  wake(t.q)  -- waiting workers recompute how long to sleep
end

local function release(id, t)
  t.s, t.d, t.w, t.le = 'pending', math.max((tonumber(t.d) or 1) - 1, 0), '', ''
  writes:put(id, t)
  local key = qkey(t.q, prio(t))
  ensure_type(key, 'list')
  redis.call('LPUSH', key, id)  -- back at the front: it was first in line
  wake(t.q)
end

local ids = {}
for i = 3, ARGV_END, 7 do ids[#ids + 1] = ARGV[i + 1] end
local records = hmget(K_TASKS, ids)
local settled = {}  -- an id settled earlier in this batch: its holder is gone
-- The fields an ack needs: state, deliveries, token, priority, progress, #queue, queue...
local HEAD = '^([^\31]*)\31([^\31]*)\31([^\31]*)\31[^\31]*\31([^\31]*)\31[^\31]*\31[^\31]*\31' ..
             '([^\31]*)\31(%d+)\31(.*)$'
for n, id in ipairs(ids) do
  local i = 3 + (n - 1) * 7
  local s, d, tok, p, pr, ql, rest
  if not settled[id] and records[n] then
    s, d, tok, p, pr, ql, rest = string.match(records[n], HEAD)
  end
  local q = ql and tonumber(ql) <= #rest and string.sub(rest, 1, tonumber(ql))
  if s ~= 'reserved' or tok ~= ARGV[i + 2] or not q or q == '' then
    duplicates = duplicates + 1
    flags[n] = 0
  else
    settled[id] = true
    local list = unleased[q]
    if not list then list = {}; unleased[q] = list end
    list[#list + 1] = id
    local outcome, result, number, text = ARGV[i], ARGV[i + 4], tonumber(ARGV[i + 5]), ARGV[i + 6]
    if outcome == 'a' then
      ack(id, d, p, pr, ARGV[i + 3], result, number)
    else
      local t = parse(records[n])
      if outcome == 'r' then
        retry(id, t, result, number, text)
      elseif outcome == 'd' then
        dead_letter(writes, id, t, text, now)
        if result ~= '' then writes:set('results', id, result) end
      else
        release(id, t)
      end
    end
    flags[n] = 1
  end
end
writes:flush()
if #finished > 0 then hash_call('HSET', K_FINISHED, finished) end
unique_release(ended)
if redis.call('EXISTS', K_REVOKES) == 1 then  -- a settlement ends its task's revoke request
  local gone = {}
  for id in pairs(settled) do gone[#gone + 1] = id end
  if #gone > 0 then hash_call('HDEL', K_REVOKES, gone) end
end

do  -- slots of per-key concurrency free (flow_lib.lua); acked tasks forget their limits
  local left, gone = {}, {}
  for id in pairs(settled) do left[#left + 1] = id end
  for n = 1, #finished, 2 do gone[finished[n]] = true end
  limits_released(left, gone)
end

for q, list in pairs(unleased) do
  for j = 1, #list, ARGS_CHUNK do
    redis.pcall('ZREM', lkey(q), unpack(list, j, math.min(j + ARGS_CHUNK - 1, #list)))
  end
end
for second, list in pairs(expiring) do
  rpush_all(xkey(second), list)
  redis.call('ZADD', K_EXPIRY, 'NX', second, second)
end
if completed > 0 then redis.call('HINCRBY', K_STATS, 'completed', completed) end
if failed > 0 then redis.call('HINCRBY', K_STATS, 'failed', failed) end
if duplicates > 0 then redis.call('HINCRBY', K_STATS, 'duplicates', duplicates) end
wf_after(wf_ended, now)
if WF_AT then  -- the follow-ups of the settlements that were applied
  local a = WF_AT
  while a <= WF_END do
    local n, m = tonumber(ARGV[a]), tonumber(ARGV[a + 1])
    if flags[n] == 1 then
      for b = a + 2, a + 1 + m * WF_FIELDS, WF_FIELDS do wf_add(ARGV, b, now) end
    end
    a = a + 2 + m * WF_FIELDS
  end
end
return flags
