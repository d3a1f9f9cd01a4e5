-- set_progress: ARGV: prefix, id, token, fraction.
-- Returns 1 when recorded, 0 when the holder is stale, -1 when the task does not exist.
local t = read_task(ARGV[2], 's', 'tok')
if not t or not t[1] then
  if redis.call('EXISTS', fkey(ARGV[2])) == 1 then return 0 end  -- finished: no holder
  return -1
end
if t[1] ~= 'reserved' or t[2] ~= ARGV[3] then return 0 end
redis.call('HSET', tkey(ARGV[2]), 'pr', ARGV[4])
return 1
