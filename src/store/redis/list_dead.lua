-- list_dead: ARGV: prefix, limit. Read-only.
-- Returns a flat array: id, queue, reason, died_at, body per dead task, oldest first.
local out = {}
local ids = redis.call('ZRANGE', K_DEAD, 0, tonumber(ARGV[2]) - 1, 'WITHSCORES')
for i = 1, #ids, 2 do
  local t = read_task(ids[i], 'q', 'why', 'b') or {}
  for _, v in ipairs({ids[i], t[1] or '', t[2] or '', ids[i + 1], t[3] or ''}) do
    out[#out + 1] = v
  end
end
return out
