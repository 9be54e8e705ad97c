
-- Shared tail. A sliding count is brought to now's slice, so the state sent back (for the
-- caller's stats) holds the sends of the last period as of now.
for _, w in ipairs(W) do
  if not w.an then sent_recently(w) end
end
-- Write back what changed. The key expires a little past everything the state still
-- knows (the longest window, the pause, the lease of a worker with tokens in flight);
-- the expiry is set again only when it is half a second off (saves a call per script).
if dirty or counted or mine_dirty or queue_dirty then
  local ttl = 0
  for _, w in ipairs(W) do
    if w.T > ttl then ttl = w.T end
  end
  if S.p - now > ttl then ttl = S.p - now end
  if S.n > 0 and S.lmax > ttl then ttl = S.lmax end
  local expire = math.abs(S.x - (now + ttl + 1)) > 0.5
  if expire then
    S.x = now + ttl + 1
    dirty = true
  end
  local sets = {}
  if dirty then
    -- The uncontended take's summary (fast.lua): until when, and the room before `n`.
    local fu, f0, f1, tm = math.huge, math.huge, math.huge, 0
    for _, w in ipairs(W) do
      if w.T > tm then tm = w.T end
      if w.rs < fu then fu = w.rs end
      local room = w.left
      if not w.an then
        local edge = (w.ra + 1) * (w.T / SLOTS)
        if edge < fu then fu = edge end
        if not w.cf and w.l - w.rt < room then room = w.l - w.rt end
      end
      if room < f0 then f0 = room end
      local cut = full_cut(w)
      if room - cut < f1 then f1 = room - cut end
      -- In the stretch where the reserve is lent, the full take computes the cut.
      if cut > 0 and S.lend > 0 and w.an and w.rs - S.lend * w.T < fu then
        fu = w.rs - S.lend * w.T
      end
    end
    for _, w in ipairs(W) do
      if not (w.cf or w.bo) then fu = -math.huge end
    end
    local flag = {[true] = 1, [false] = 0}
    local values = {VERSION, S.e, S.p, S.sweep, S.lmax, S.x, #W, fu, f0, f1, tm, S.lend}
    for _, w in ipairs(W) do
      local b = #values
      values[b + 1], values[b + 2], values[b + 3], values[b + 4] = w.l, w.T, w.r, w.left
      values[b + 5], values[b + 6], values[b + 7] = w.rs, flag[w.cf], flag[w.bo]
      values[b + 8], values[b + 9], values[b + 10] = flag[w.pb], flag[w.id], flag[w.an]
      values[b + 11], values[b + 12], values[b + 13] = w.ra, w.rt, w.rc
    end
    raw = struct.pack('<' .. string.rep('d', #values), unpack(values))
    sets[1], sets[2] = 's', raw
  end
  if counted then
    sets[#sets + 1], sets[#sets + 2] = 'n', S.n
  end
  if queue_dirty then
    sets[#sets + 1], sets[#sets + 2] = 'qn', S.qn
  end
  if mine_dirty and mine.n > 0 then
    sets[#sets + 1], sets[#sets + 2] = field, struct.pack(LEASE, mine.n, mine.t, mine.L)
  end
  if #sets > 0 then redis.call('HSET', key, unpack(sets)) end
  if mine_dirty and mine.n == 0 then redis.call('HDEL', key, field) end
  if expire then redis.call('PEXPIRE', key, math.ceil((ttl + 1) * 1000)) end
  if S.qn > 0 and (expire or queue_dirty) then
    -- The queue goes with the state.
    redis.call('PEXPIRE', qkey, math.max(1, math.ceil((S.x - now) * 1000)))
  end
end
-- Integers are the cheapest replies to build and parse: the wait in whole microseconds,
-- now as (seconds since the epoch, microseconds), requests in flight, then the state as
-- stored (its windows not rolled to now: the caller rolls them).
return {result, math.floor(wait * 1000000 + 0.5), sec - S.e, usec, S.n, raw}
