-- Helpers for the operations that compute waits (take, estimate): _window.estimate_wait.

local function slide_wait(w, need)
  slide(w)
  local slice = w.T / SLOTS
  local fields = {}
  for k = w.ra - SIZE + 1, w.ra do fields[#fields + 1] = slot_field(w, k) end -- oldest first
  local ring = redis.call('HMGET', key, unpack(fields))
  ring[SIZE] = w.rc -- the slice now filling is counted in the state, not yet in its field
  local counted = 0
  for j = 1, SIZE do
    counted = counted + (tonumber(ring[j]) or 0)
    if counted >= need then
      local k = w.ra - SIZE + j
      return math.max((k + SIZE) * slice - now, slice * 1e-6)
    end
  end
  local extra = math.floor((need - counted - 1) / math.max(1, w.l - full_cut(w))) + 1
  return math.max((w.ra + 1) * slice - now, 0) + extra * w.T
end

local function estimate_wait(w, ahead, cut)
  local slid = 0
  if not (w.cf or w.an) then
    local need = ahead + 1 - (w.l - sent_recently(w) - S.n - cut)
    if need > 0 then slid = slide_wait(w, need) end
  end
  local lent = 0
  if cut > 0 then lent = cut_of(w) end
  local room = math.max(0, w.left - S.n - lent)
  if ahead < room then return slid end
  local short = w.left - S.n - ahead
  if lent > 0 and short > 0 and S.lend > 0 and w.an then
    -- Room comes before the reset, as the part held back shrinks below `short`.
    local when = w.rs - short * (S.lend * w.T) / cut
    return math.max(slid, when - now + 1e-6, 1e-6)
  end
  local per = math.max(1, w.l - cut)
  local more = math.floor((ahead - room) / per)
  return math.max(slid, w.rs - now + more * w.T, 0)
end

local function estimate(ahead, reserved)
  local wait = S.p - now
  for _, w in ipairs(W) do
    roll(w)
    local cut = 0
    if reserved then cut = full_cut(w) end
    local ww = estimate_wait(w, ahead, cut)
    if ww > wait then wait = ww end
  end
  return math.max(0, wait)
end
