-- take, uncontended (between head.lua and prelude.lua): when the state's summary says the
-- full take below would change nothing but `n` and this worker's lease, take from `n`
-- without decoding the windows. The full take would do exactly this when: no window rolls
-- or slides its sliding count before `fu`, and none needs a probe (fu is -inf then); no
-- pause; no lease sweep is due and this lease moves neither `sweep` nor `lmax`; every
-- window has room (`n` below f0, or f1 for a reserved take); nobody is queued; and the expiry, as the
-- epilogue computes it, is not due to be set again. Otherwise the full take runs.
-- tests/redis/test_redis_parity.py checks that both leave the same hash and answers.
do
  local s = got[1]
  if s and not got.err then
    local version, e, p, sweep, lmax, x, _, fu, f0, f1, tm = struct.unpack(HEAD, s)
    local queued = tonumber(got[4]) or 0
    if version == VERSION then
      local now = (sec - e) + usec / 1000000
      local n = tonumber(got[2]) or 0
      local lease = tonumber(args[A + 2])
      local room = f0
      if args[A] == '1' then room = f1 end
      if queued == 0 and now < fu and now >= p and now <= sweep and n < room and lease <= lmax
          and now + lease >= sweep then
        local ttl = tm
        if n + 1 > 0 and lmax > ttl then ttl = lmax end
        if math.abs(x - (now + ttl + 1)) <= 0.5 then
          local held = 0
          if got[3] then held = struct.unpack(LEASE, got[3]) end
          n = n + 1
          redis.call('HSET', key, 'n', n, field, struct.pack(LEASE, held + 1, now, lease))
          return {1, 0, sec - e, usec, n, s}
        end
      end
    end
  end
end
