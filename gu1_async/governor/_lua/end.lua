--! include head prelude observe waits admit queue
-- end: a permit ended (MemoryStore.end). args[A] sent, args[A+1] answered ('1'/'0'), then
-- the observed limit, remaining, reset_after and window period ('' when absent).
local sent = args[A] == '1'
local answered = args[A + 1] == '1'
local limit = tonumber(args[A + 2])
local remaining = tonumber(args[A + 3])
local reset_after = tonumber(args[A + 4])
local period = tonumber(args[A + 5])
-- A token whose lease was released (or whose state was lost) is not returned twice.
if mine and mine.n > 0 then
  mine.n = mine.n - 1
  S.n = S.n - 1
  counted = true
end
if not sent then
  for _, w in ipairs(W) do
    if w.pb then
      w.pb = false
      dirty = true
    end
  end
else
  dirty = true
  local d = described(limit, remaining, reset_after, period)
  for i, w in ipairs(W) do
    roll(w)
    -- The sliding count only matters until a header places the window's edges.
    if not w.an then record_sent(w) end
    if i == d then
      if not observe(w, remaining, reset_after) then spend(w, 1) end
    else
      spend(w, 1)
    end
    if w.pb then end_probe(w, answered) end
  end
end
-- The room this end frees goes to the fleet queue's heads first.
dispatch(false)
--! include epilogue
