-- revoke_requests: the revoke requests of the given reserved tasks.
-- ARGV: prefix, id...
-- Returns a flat array: id, terminate ('1' or '0') per task with a request.
local out = {}
if redis.call('EXISTS', K_REVOKES) == 0 or #ARGV < 2 then return out end
local ids = {}
for i = 2, #ARGV do ids[#ids + 1] = ARGV[i] end
local values = hmget(K_REVOKES, ids)
for i, id in ipairs(ids) do
  if values[i] then
    out[#out + 1] = id
    out[#out + 1] = string.sub(values[i], 1, 1)
  end
end
return out
