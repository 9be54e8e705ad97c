-- take: one token from every window, or none and the wait (ARGV[A] reserved, ARGV[A+1] ahead).
local reserved = ARGV[A] == '1'
local ahead = tonumber(ARGV[A + 1])
dirty = true
result = 1
if now < S.p then result = 0 end
for _, w in ipairs(S.w) do
  roll(w)
  if result == 1 then
    local room = w.left - S.n
    if reserved then room = room - cut_of(w) end
    -- Not confirmed: one probe at a time, across all workers; its answer sets the budget.
    if room <= 0 or (S.n > 0 and not (w.cf or w.bo)) then result = 0 end
  end
end
if result == 1 then
  S.n = S.n + 1
  for _, w in ipairs(S.w) do
    if not (w.cf or w.bo) then w.pb = true end
  end
  if not mine then
    mine = {n = 0, t = now, L = lease}
    S.k[worker] = mine
  end
  mine.n = mine.n + 1
else
  wait = estimate(ahead, reserved)
  -- Only a response (maybe another worker's) can free the room: look again soon.
  if wait <= 0 then wait = recheck end
end
