-- take: one token from every window, or none and the wait (MemoryStore.take, then estimate).
-- args[A] reserved ('1'/'0'), args[A+1] ahead, args[A+2] this worker's lease in seconds.
local reserved = args[A] == '1'
result = 1
if now < S.p then result = 0 end
local probe = false
if result == 1 then
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
    if room <= 0 or (S.n > 0 and not (w.cf or w.bo)) then
      result = 0
      break
    end
    if not (w.cf or w.bo) then probe = true end
  end
end
if result == 1 then
  S.n = S.n + 1
  counted = true
  if probe then
    for _, w in ipairs(W) do
      if not (w.cf or w.bo) then w.pb = true end
    end
    dirty = true
  end
  local lease = tonumber(args[A + 2])
  if not mine then mine = {n = 0, t = now, L = lease} end
  mine.n = mine.n + 1
  mine.L = lease
  mine_dirty = true
  -- Bounds that only move on a new longest lease or after a sweep: `s` rarely changes.
  if lease > S.lmax then
    S.lmax = lease
    dirty = true
  end
  if now + lease < S.sweep then
    S.sweep = now + lease
    dirty = true
  end
else
  -- 0 when only a response (maybe another worker's) can free the room: the caller rechecks.
  wait = estimate(tonumber(args[A + 1]), reserved)
end
