-- Shared head of every governor script: load (or create) the state, read Redis TIME,
-- release the in-flight tokens of workers whose lease ran out.
--
-- A Lua port of gu1_async/governor/_window.py and MemoryStore (gu1_async/governor/_store.py):
-- keep the two in step. Times are seconds since the state's epoch `e` (small numbers keep
-- cjson's 14 significant digits at microsecond precision).
--
-- KEYS[1]  the state (one JSON string; it expires on its own)
-- ARGV     worker id, lease s, recheck s, reserve, n windows, n x (limit, period s), op args
--
-- State: e epoch (Redis seconds), p pause_until, n requests in flight (all workers),
--        k {worker id -> {n in flight, t last seen, L lease}},
--        w [{l limit, T period, r reserve, left, rs reset_at, cf confirmed, bo blind_ok,
--            pb probing, id limit named by a header}]
local key = KEYS[1]
local worker = ARGV[1]
local lease = tonumber(ARGV[2])
local recheck = tonumber(ARGV[3])
local count = tonumber(ARGV[5])
local A = 6 + 2 * count -- index of the first operation argument
local EPS = 1e-9

local clock = redis.call('TIME')
local raw = redis.call('GET', key)
local S
if raw then
  S = cjson.decode(raw)
else
  S = {e = tonumber(clock[1]), p = -1, n = 0, k = {}, w = {}}
end
local now = (tonumber(clock[1]) - S.e) + tonumber(clock[2]) / 1000000
if not raw then
  local reserve = tonumber(ARGV[4])
  for i = 1, count do
    local limit = tonumber(ARGV[4 + 2 * i])
    local period = tonumber(ARGV[5 + 2 * i])
    S.w[i] = {l = limit, T = period, r = reserve, left = limit, rs = now + period,
              cf = false, bo = false, pb = false, id = false}
  end
end
local dirty = not raw

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
  local observed = now + reset_after + 0.000001
  local same = math.abs(observed - w.rs) < w.T / 2
  if not w.cf then
    if same then w.left = math.min(w.left, remaining) else w.left = remaining end
    w.rs = observed
    w.cf = true
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

local function estimate(ahead, reserved)
  local wait = S.p - now
  for _, w in ipairs(S.w) do
    roll(w)
    local cut = 0
    if reserved then cut = cut_of(w) end
    local room = math.max(0, w.left - S.n - cut)
    if ahead >= room then
      local per = math.max(1, w.l - cut)
      local ww = math.max(0, w.rs - now) + math.floor((ahead - room) / per) * w.T
      if ww > wait then wait = ww end
    end
  end
  return math.max(0, wait)
end

-- store.match(): which window an observed limit describes.
local function match(limit, reset_after)
  for i, w in ipairs(S.w) do
    if w.l == limit then return i end
  end
  local fits = {}
  for i, w in ipairs(S.w) do
    if reset_after == nil or w.T + EPS >= reset_after then fits[#fits + 1] = i end
  end
  if #fits == 0 then
    local longest = 1
    for i, w in ipairs(S.w) do
      if w.T > S.w[longest].T then longest = i end
    end
    fits = {longest}
  end
  local unnamed = {}
  for _, i in ipairs(fits) do
    if not S.w[i].id then unnamed[#unnamed + 1] = i end
  end
  if #unnamed == 0 then unnamed = fits end
  local best, best_score = nil, nil
  for _, i in ipairs(unnamed) do
    local score
    if reset_after == nil then
      score = math.abs(math.log(limit / S.w[i].l))
    else
      score = S.w[i].T
    end
    if best == nil or score < best_score then best, best_score = i, score end
  end
  return best
end

-- MemoryStore._described(): the index of the window an observation names (0: none).
local function described(limit, remaining, reset_after)
  if limit == nil or remaining == nil or limit <= 0 then return 0 end
  local i = match(limit, reset_after)
  local w = S.w[i]
  if w.l ~= limit then
    w.l = limit
    w.left = limit
    w.cf = false
  end
  w.id = true
  return i
end

-- A worker that stopped talking for longer than its lease has died: its tokens are
-- released and, since the server may have counted those requests, spent.
for id, entry in pairs(S.k) do
  if id ~= worker and entry.t + entry.L < now then
    S.n = S.n - entry.n
    for _, w in ipairs(S.w) do
      roll(w)
      spend(w, entry.n)
    end
    S.k[id] = nil
    dirty = true
  end
end
local mine = S.k[worker]
if mine then
  mine.t = now
  mine.L = lease
  dirty = true
end

local result = 0
local wait = 0
