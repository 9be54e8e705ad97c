-- record: an observation no permit took a token for (ARGV[A..A+2] limit, remaining, reset_after).
local remaining = tonumber(ARGV[A + 1])
local reset_after = tonumber(ARGV[A + 2])
local d = described(tonumber(ARGV[A]), remaining, reset_after)
if d > 0 then
  roll(W[d])
  observe(W[d], remaining, reset_after)
  dirty = true
end
