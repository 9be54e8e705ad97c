-- The take's rule for one request (MemoryStore.take): every window has room, or none is
-- taken. Used by take, and by queue.lua to grant queued tickets.

local function admit(reserved)
  if now < S.p then return false end
  local probe = false
  for _, w in ipairs(W) do
    roll(w)
    local room = w.left
    if not (w.cf or w.an) then
      -- Edges unknown (no header placed them): also held to a sliding period.
      local cap = w.l - sent_recently(w)
      if cap < room then room = cap end
    end
    room = room - S.n
    if reserved then room = room - cut_of(w) end
    -- No room, or a probe is out (across all workers): its answer sets this window's budget.
    if room <= 0 or (S.n > 0 and not (w.cf or w.bo)) then return false end
    if not (w.cf or w.bo) then probe = true end
  end
  S.n = S.n + 1
  counted = true
  if probe then
    for _, w in ipairs(W) do
      if not (w.cf or w.bo) then w.pb = true end
    end
    dirty = true
  end
  return true
end
