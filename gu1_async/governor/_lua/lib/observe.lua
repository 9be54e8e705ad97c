-- Helpers for the operations that apply headers (end, record): _window.observe, match.

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
  if not (w.cf and w.an) then
    -- First word on this window's edge (a count without a Reset confirms it, but only a
    -- Reset places it): adopt the server's edge.
    if same then w.left = math.min(w.left, remaining) else w.left = remaining end
    w.rs = observed
    w.cf = true
    if not w.an then
      -- Its edges are known from now on: the sliding count is never read again.
      w.an = true
      local fields = {}
      for k = 0, SLOTS do fields[#fields + 1] = slot_field(w, k) end
      redis.call('HDEL', key, unpack(fields))
    end
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
  if reset_after ~= nil then
    -- A named, placed window whose edge the observed reset falls on (or within a period
    -- after): the same window with a new limit.
    local edge = now + reset_after
    for _, i in ipairs(fits) do
      local w = W[i]
      local tol = math.max(1.0, 0.01 * w.T)
      if w.id and w.an and edge - w.rs >= -tol and edge - w.rs <= w.T + tol then return i end
    end
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
local function described(limit, remaining, reset_after, period)
  if limit == nil or remaining == nil or limit <= 0 then return 0 end
  local i = match(limit, reset_after)
  local w = W[i]
  -- The server's own period (named by it, or measured): the window rolls by it.
  if period ~= nil and period >= 0.001 and period < w.T and reset_after ~= nil and reset_after > 0 then
    w.T = period
    if w.rs > now + period then w.rs = now + period end
  end
  if w.l ~= limit then
    w.l = limit
    w.left = limit
    w.cf = false
  end
  w.id = true
  return i
end
