
-- Shared tail: write back what changed, with an expiry a little past everything the state
-- still knows (the longest window, the pause, the lease of a worker with tokens in flight).
if dirty then
  local ttl = 0
  for _, w in ipairs(W) do
    if w.T > ttl then ttl = w.T end
  end
  if S.p - now > ttl then ttl = S.p - now end
  if S.n > 0 then
    if S.lmax > ttl then ttl = S.lmax end
  else
    S.lmax = 0
    S.sweep = math.huge
  end
  local flag = {[true] = 1, [false] = 0}
  local parts = {struct.pack(HEAD, VERSION, S.e, S.p, S.n, S.sweep, S.lmax, #W)}
  for _, w in ipairs(W) do
    parts[#parts + 1] = struct.pack(WIN, w.l, w.T, w.r, w.left, w.rs, flag[w.cf], flag[w.bo],
                                    flag[w.pb], flag[w.id], flag[w.an], w.ra, w.rt)
    if not w.an then parts[#parts + 1] = struct.pack(RING, unpack(w.ring)) end
  end
  raw = table.concat(parts)
  if mine_dirty and mine.n > 0 then
    redis.call('HSET', key, 's', raw, field, struct.pack(LEASE, mine.n, mine.t, mine.L))
  else
    redis.call('HSET', key, 's', raw)
    if mine_dirty then redis.call('HDEL', key, field) end
  end
  redis.call('PEXPIRE', key, math.ceil((ttl + 1) * 1000))
end
-- Integers are the cheapest replies to build and parse: the wait in whole microseconds,
-- now as (seconds since the epoch, microseconds), then the state as stored.
return {result, math.floor(wait * 1000000 + 0.5), sec - S.e, usec, raw}
