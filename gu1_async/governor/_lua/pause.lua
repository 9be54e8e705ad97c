--! include head prelude
-- pause: refuse every take for args[A] seconds (extend, never shorten); 1 if newly paused.
local seconds = tonumber(args[A])
if now >= S.p then result = 1 end
S.p = math.max(S.p, now + math.max(0, seconds))
dirty = true
--! include epilogue
