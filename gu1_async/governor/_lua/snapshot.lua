-- snapshot (read only, for `gu1 status`): one budget's state hash and fleet queue as they
-- stand, with Redis TIME, in one atomic read. Not part of the store's operations (no head,
-- prelude or epilogue: it writes nothing, not even the expiry), loaded by
-- _snapshot_redis.py. Layout of the keys: head.lua.
-- KEYS[1]  the state hash `<prefix>{<namespace>}:state`
-- KEYS[2]  the fleet queue `<prefix>{<namespace>}:q`
-- Returns {seconds, microseconds, the hash as HGETALL gives it, tickets queued at
-- interactive priority, at batch priority, then (worker id, tickets) pairs}.
local BIG = 4294967296 -- a ticket's score: priority * BIG + its sequence number (take.lua)
local clock = redis.call('TIME')
local hash = redis.pcall('HGETALL', KEYS[1])
if hash.err then hash = {} end -- not a hash (an older version's state): nothing to show
local interactive = redis.call('ZCOUNT', KEYS[2], '-inf', '(' .. BIG)
local batch = redis.call('ZCOUNT', KEYS[2], BIG, '+inf')
local per, order = {}, {}
for _, member in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  local sep = string.find(member, ':', 1, true)
  if sep then
    local wk = string.sub(member, 1, sep - 1)
    if not per[wk] then
      per[wk] = 0
      order[#order + 1] = wk
    end
    per[wk] = per[wk] + 1
  end
end
local queued = {}
for _, wk in ipairs(order) do
  queued[#queued + 1] = wk
  queued[#queued + 1] = per[wk]
end
return {clock[1], clock[2], hash, interactive, batch, queued}
