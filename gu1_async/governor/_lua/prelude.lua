-- Shared head of every governor script: read the time, load the state (or ask for the
-- plan to create it), release the in-flight tokens of workers whose lease ran out.
--
-- A Lua port of gu1_async/governor/_window.py and MemoryStore (gu1_async/governor/_store.py):
-- keep the two in step. tests/redis/test_redis_parity.py drives both with the same random
-- operations and compares every answer. Times are seconds since the state's epoch `e` (a
-- whole Redis second), computed exactly as the test computes the MemoryStore's `now`.
--
-- KEYS[1]  a hash: `s` the state (struct-packed little-endian doubles, layout below),
--          `k:<worker id>` one per worker with tokens in flight: in flight, last seen, lease
-- ARGV[1]  worker id
-- ARGV[2]  TEST ONLY: "" (always, in production) reads Redis TIME; an integer number of
--          microseconds replaces TIME, so a test can drive Redis and a MemoryStore in step
-- ARGV[3]  n, the plan's window count, or 0 to send no plan. Then, when n > 0: reserve and
--          n x (limit, period s). Without a plan a missing state answers {-1} (NOPLAN):
--          the caller sends again with it. Operation arguments start at ARGV[A].
--
-- `s`: VERSION, e epoch, p pause_until, n in flight (all workers), sweep (no lease ends
--      before it), lmax (longest lease of a worker in flight), window count; then per
--      window l limit, T period, r reserve, left, rs reset_at, cf confirmed, bo blind_ok,
--      pb probing, id identified, an anchored, ra ring_at, rt ring_total, and while not
--      anchored its ring (SIZE sends per slice; unused once a header placed the edges).
local VERSION = 2
local SLOTS = 32
local SIZE = SLOTS + 1
local EPS = 1e-9
local HEAD = '<ddddddd'
local WIN = '<dddddddddddd'
local RING = '<' .. string.rep('d', SIZE)
local LEASE = '<ddd'

local key = KEYS[1]
local worker = ARGV[1]
local field = 'k:' .. worker
local clock
if ARGV[2] ~= '' then
  local us = tonumber(ARGV[2])
  clock = {math.floor(us / 1000000), us % 1000000}
else
  clock = redis.call('TIME')
end
local sec, usec = tonumber(clock[1]), tonumber(clock[2])
local planned = tonumber(ARGV[3])
local A = 4
if planned > 0 then A = 5 + 2 * planned end

local got = redis.pcall('HMGET', key, 's', field)
if got.err then
  -- Not a hash: the JSON string of an older version. Start over (it costs one probe).
  redis.call('DEL', key)
  got = {false, false}
end
local raw, mine_raw = got[1], got[2]
local S, W = nil, {}
if raw then
  local h = {struct.unpack(HEAD, raw)}
  if h[1] == VERSION then
    S = {e = h[2], p = h[3], n = h[4], sweep = h[5], lmax = h[6]}
    local pos = h[8]
    for i = 1, h[7] do
      local x = {struct.unpack(WIN, raw, pos)}
      local w = {l = x[1], T = x[2], r = x[3], left = x[4], rs = x[5], cf = x[6] == 1,
                 bo = x[7] == 1, pb = x[8] == 1, id = x[9] == 1, an = x[10] == 1,
                 ra = x[11], rt = x[12]}
      pos = x[13]
      if not w.an then
        local ring = {struct.unpack(RING, raw, pos)}
        pos = ring[SIZE + 1]
        ring[SIZE + 1] = nil
        w.ring = ring
      end
      W[i] = w
    end
  end
end
if not S then
  if planned == 0 then return {-1} end
  S = {e = sec, p = -1, n = 0, sweep = math.huge, lmax = 0}
end
local now = (sec - S.e) + usec / 1000000
local dirty = false
if #W == 0 then
  local reserve = tonumber(ARGV[4])
  for i = 1, planned do
    local period = tonumber(ARGV[4 + 2 * i])
    local ring = {}
    for j = 1, SIZE do ring[j] = 0 end
    W[i] = {l = tonumber(ARGV[3 + 2 * i]), T = period, r = reserve, left = tonumber(ARGV[3 + 2 * i]),
            rs = now + period, cf = false, bo = false, pb = false, id = false, an = false,
            ra = math.floor(now / (period / SLOTS)), rt = 0, ring = ring}
  end
  dirty = true
  mine_raw = false -- a lease from a lost state returns nothing to this one
end

local function cut_of(w)
  return math.floor(w.r * w.l)
end

local function roll(w)
  if now < w.rs then return end
  local missed = math.floor((now - w.rs) / w.T) + 1
  w.rs = w.rs + missed * w.T
  w.left = w.l
  w.cf = false
  w.bo = false
  w.pb = false
end

local function spend(w, n)
  w.left = math.max(0, w.left - n)
end

-- _window._slide: move the ring to now's slice, forgetting slices older than a period.
local function slide(w)
  local at = math.floor(now / (w.T / SLOTS))
  local gap = at - w.ra
  if gap <= 0 then return end
  local ring = w.ring
  if gap >= SIZE then
    for j = 1, SIZE do ring[j] = 0 end
    w.rt = 0
  else
    for k = w.ra + 1, at do
      local j = k % SIZE + 1
      w.rt = w.rt - ring[j]
      ring[j] = 0
    end
  end
  w.ra = at
end

local function record_sent(w)
  slide(w)
  local j = w.ra % SIZE + 1
  w.ring[j] = w.ring[j] + 1
  w.rt = w.rt + 1
end

local function sent_recently(w)
  if now >= (w.ra + 1) * (w.T / SLOTS) then slide(w) end
  return w.rt
end

local function slide_wait(w, need)
  slide(w)
  local slice = w.T / SLOTS
  local ring = w.ring
  local counted = 0
  for k = w.ra - SIZE + 1, w.ra do -- oldest slice first
    counted = counted + ring[k % SIZE + 1]
    if counted >= need then
      return math.max((k + SIZE) * slice - now, slice * 1e-6)
    end
  end
  local extra = math.floor((need - counted - 1) / math.max(1, w.l - cut_of(w))) + 1
  return math.max((w.ra + 1) * slice - now, 0) + extra * w.T
end

local function observe(w, remaining, reset_after)
  remaining = math.max(0, remaining)
  if reset_after == nil then
    w.left = math.min(w.left, remaining)
    w.cf = true
    return true
  end
  if reset_after <= 0 then
    if w.cf then w.left = math.min(w.left, remaining) end
    return w.cf
  end
  -- A microsecond late (RESET_MARGIN): rounding must never refill before the server does.
  local observed = now + reset_after + 1e-6
  local same = math.abs(observed - w.rs) < w.T / 2
  if not w.cf then
    if same then w.left = math.min(w.left, remaining) else w.left = remaining end
    w.rs = observed
    w.cf = true
    w.an = true
  elseif same then
    w.left = math.min(w.left, remaining)
    w.rs = math.min(w.rs, observed)
  elseif observed > w.rs then
    w.left = remaining
    w.rs = observed
  else
    return false
  end
  return true
end

local function end_probe(w, answered)
  w.pb = false
  if answered and not w.cf then w.bo = true end
end

local function estimate_wait(w, ahead, cut)
  local slid = 0
  if not (w.cf or w.an) then
    local need = ahead + 1 - (w.l - sent_recently(w) - S.n - cut)
    if need > 0 then slid = slide_wait(w, need) end
  end
  local room = math.max(0, w.left - S.n - cut)
  if ahead < room then return slid end
  local per = math.max(1, w.l - cut)
  local more = math.floor((ahead - room) / per)
  return math.max(slid, w.rs - now + more * w.T, 0)
end

local function estimate(ahead, reserved)
  local wait = S.p - now
  for _, w in ipairs(W) do
    roll(w)
    local cut = 0
    if reserved then cut = cut_of(w) end
    local ww = estimate_wait(w, ahead, cut)
    if ww > wait then wait = ww end
  end
  return math.max(0, wait)
end

-- store.match(): which window an observed limit describes.
local function match(limit, reset_after)
  for i, w in ipairs(W) do
    if w.l == limit then return i end
  end
  local fits = {}
  for i, w in ipairs(W) do
    if reset_after == nil or w.T + EPS >= reset_after then fits[#fits + 1] = i end
  end
  if #fits == 0 then
    local longest = 1
    for i, w in ipairs(W) do
      if w.T > W[longest].T then longest = i end
    end
    fits = {longest}
  end
  local unnamed = {}
  for _, i in ipairs(fits) do
    if not W[i].id then unnamed[#unnamed + 1] = i end
  end
  if #unnamed == 0 then unnamed = fits end
  local best, best_score = nil, nil
  for _, i in ipairs(unnamed) do
    local score
    if reset_after == nil then
      score = math.abs(math.log(limit / W[i].l))
    else
      score = W[i].T
    end
    if best == nil or score < best_score then best, best_score = i, score end
  end
  return best
end

-- MemoryStore._described(): the index of the window an observation names (0: none).
local function described(limit, remaining, reset_after)
  if limit == nil or remaining == nil or limit <= 0 then return 0 end
  local i = match(limit, reset_after)
  local w = W[i]
  if w.l ~= limit then
    w.l = limit
    w.left = limit
    w.cf = false
  end
  w.id = true
  return i
end

-- This worker's lease: every call from it proves it alive.
local mine = nil
local mine_dirty = false
if mine_raw then
  local m = {struct.unpack(LEASE, mine_raw)}
  mine = {n = m[1], t = now, L = m[3]}
  mine_dirty = true
  dirty = true
end

-- A worker that stopped talking for longer than its lease has died: its tokens are
-- released and, since the server may have counted those requests, spent. Looked for
-- only once `sweep` (the earliest a lease can end) has passed.
if S.n > 0 and now > S.sweep then
  local sweep = math.huge
  local all = redis.call('HGETALL', key)
  for j = 1, #all, 2 do
    local f = all[j]
    if f ~= 's' and f ~= field then
      local m = {struct.unpack(LEASE, all[j + 1])}
      if m[2] + m[3] < now then
        S.n = S.n - m[1]
        for _, w in ipairs(W) do
          roll(w)
          spend(w, m[1])
        end
        redis.call('HDEL', key, f)
      elseif m[2] + m[3] < sweep then
        sweep = m[2] + m[3]
      end
    end
  end
  if mine and now + mine.L < sweep then sweep = now + mine.L end
  S.sweep = sweep
  dirty = true
end

local result = 0
local wait = 0
