
-- Shared tail: write back with an expiry a little past everything the state still
-- knows (the longest window, the pause, the leases of workers with requests in flight).
local encoded = cjson.encode(S)
if dirty then
  local ttl = 0
  for _, w in ipairs(S.w) do
    if w.T > ttl then ttl = w.T end
  end
  if S.p - now > ttl then ttl = S.p - now end
  for _, entry in pairs(S.k) do
    if entry.L > ttl then ttl = entry.L end
  end
  redis.call('SET', key, encoded, 'PX', math.ceil((ttl + 1) * 1000))
end
-- Times go back as whole microseconds: integer replies are the cheapest to build and parse.
return {result, math.floor(wait * 1000000 + 0.5), math.floor(now * 1000000), encoded}
