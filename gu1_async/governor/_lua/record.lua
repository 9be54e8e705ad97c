--! include head prelude observe
-- record: an observation no permit took a token for (args[A..A+3] limit, remaining,
-- reset_after, window period).
local remaining = tonumber(args[A + 1])
local reset_after = tonumber(args[A + 2])
local d = described(tonumber(args[A]), remaining, reset_after, tonumber(args[A + 3]))
if d > 0 then
  roll(W[d])
  observe(W[d], remaining, reset_after)
  dirty = true
end
--! include epilogue
