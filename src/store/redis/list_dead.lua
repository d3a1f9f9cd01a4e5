-- list_dead: ARGV: prefix, limit. Read-only.
-- Returns a flat array: id, queue, reason, died_at, body per dead task, oldest first.
local out = {}
local dead = redis.call('ZRANGE', K_DEAD, 0, tonumber(ARGV[2]) - 1, 'WITHSCORES')
local ids = {}
for i = 1, #dead, 2 do ids[#ids + 1] = dead[i] end
local function read(key)
  local r = {}
  for a = 1, #ids, ARGS_CHUNK do
    local part = redis.pcall('HMGET', key, unpack(ids, a, math.min(a + ARGS_CHUNK - 1, #ids)))
    for k = a, math.min(a + ARGS_CHUNK - 1, #ids) do
      r[k] = type(part) == 'table' and not part.err and part[k - a + 1] or false
    end
  end
  return r
end
local records, reasons, bodies = read(K_TASKS), read(K_REASONS), read(K_BODIES)
for n, id in ipairs(ids) do
  local t = parse(records[n])
  for _, v in ipairs({id, t and t.q or '', reasons[n] or '', dead[2 * n], bodies[n] or ''}) do
    out[#out + 1] = v
  end
end
return out
