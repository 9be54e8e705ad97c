-- end: a permit ended (ARGV[A] sent, ARGV[A+1] answered, then limit, remaining, reset_after).
local sent = ARGV[A] == '1'
local answered = ARGV[A + 1] == '1'
local limit = tonumber(ARGV[A + 2])
local remaining = tonumber(ARGV[A + 3])
local reset_after = tonumber(ARGV[A + 4])
dirty = true
-- A token whose lease was released (or whose state was lost) is not returned twice.
if mine and mine.n > 0 then
  mine.n = mine.n - 1
  S.n = S.n - 1
  if mine.n == 0 then S.k[worker] = nil end
end
if not sent then
  for _, w in ipairs(S.w) do w.pb = false end
else
  local d = described(limit, remaining, reset_after)
  for i, w in ipairs(S.w) do
    roll(w)
    if i == d then
      if not observe(w, remaining, reset_after) then spend(w, 1) end
    else
      spend(w, 1)
    end
    if w.pb then end_probe(w, answered) end
  end
end
