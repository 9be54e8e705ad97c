-- Shared head of every governor script: read the time, load the state (or ask for the
-- plan to create it), release the in-flight tokens of workers whose lease ran out.
--
-- A Lua port of gu1_async/governor/_window.py and MemoryStore (gu1_async/governor/_store.py):
-- keep the two in step. tests/redis/test_redis_parity.py drives both with the same random
-- operations and compares every answer. Times are seconds since the state's epoch `e` (a
-- whole Redis second), computed exactly as the test computes the MemoryStore's `now`.
--
-- KEYS[1]  a hash: `s` the state (struct-packed little-endian doubles, layout below);
--          `n` requests in flight, all workers together (apart: a take writes only it);
--          `r<i>:<slot>` window i's sliding count, sends per slice (only while no header
--          has placed its edges; a missing slot is 0); `k:<worker id>` one per worker
--          with tokens in flight: in flight, last seen, lease seconds (packed doubles)
-- ARGV[1]  one space-separated string (each argument costs the client more than a split
--          costs here): worker id, clock, then the operation's fields from index A on
--          ("-" for none). clock is TEST ONLY: "-" (always, in production) reads Redis
--          TIME; an integer number of microseconds replaces TIME, so a test can drive
--          Redis and a MemoryStore in step.
-- ARGV[2]  the plan, only when the caller was told NOPLAN: "reserve limit period ..."
--          (one limit and period per window). Without it a missing state answers {-1}
--          (NOPLAN) and the caller sends again with it.
--
-- `s`: VERSION, e epoch, p pause_until, sweep (no lease ends before it), lmax (the longest
--      lease a worker took tokens under), x when the key expires (as last set), window count; then per window l limit, T period, r reserve, left,
--      rs reset_at, cf confirmed, bo blind_ok, pb probing, id identified, an anchored,
--      ra ring_at (the slice the sliding count is at), rt ring_total, rc the sends in
--      slice ra (kept here, written to its `r<i>:<slot>` field when the count slides on).
local VERSION = 4
local SLOTS = 32
local SIZE = SLOTS + 1
local EPS = 1e-9
local HEAD = '<ddddddd'
local FIELDS = 13 -- doubles per window
local LEASE = '<ddd'

local key = KEYS[1]
local args = {}
for word in string.gmatch(ARGV[1], '%S+') do args[#args + 1] = word end
local A = 3 -- the operation's first field
local worker = args[1]
local field = 'k:' .. worker
local clock
if args[2] ~= '-' then
  local us = tonumber(args[2])
  clock = {math.floor(us / 1000000), us % 1000000}
else
  clock = redis.call('TIME')
end
local sec, usec = tonumber(clock[1]), tonumber(clock[2])

local got = redis.pcall('HMGET', key, 's', 'n', field)
if got.err then
  -- Not a hash: the JSON string of an older version. Start over (it costs one probe).
  redis.call('DEL', key)
  got = {false, false, false}
end
local raw, mine_raw = got[1], got[3]
local S, W = nil, {}
if raw then
  local h = {struct.unpack(HEAD, raw)}
  if h[1] == VERSION then
    S = {e = h[2], p = h[3], n = tonumber(got[2]) or 0, sweep = h[4], lmax = h[5], x = h[6]}
    local v = {struct.unpack('<' .. string.rep('d', FIELDS * h[7]), raw, h[8])}
    for i = 1, h[7] do
      local b = FIELDS * (i - 1)
      W[i] = {i = i, l = v[b + 1], T = v[b + 2], r = v[b + 3], left = v[b + 4], rs = v[b + 5],
              cf = v[b + 6] == 1, bo = v[b + 7] == 1, pb = v[b + 8] == 1, id = v[b + 9] == 1,
              an = v[b + 10] == 1, ra = v[b + 11], rt = v[b + 12], rc = v[b + 13]}
    end
  else
    redis.call('DEL', key) -- another layout: start over
    mine_raw = false
  end
end
if not S then
  if not ARGV[2] then return {-1} end
  S = {e = sec, p = -1, n = 0, sweep = math.huge, lmax = 0, x = -1}
end
local now = (sec - S.e) + usec / 1000000
-- What to write back: `s` (dirty), `n` (counted), this worker's lease (mine_dirty).
local dirty = false
local counted = false
if #W == 0 then
  counted = true
  local plan = {}
  for word in string.gmatch(ARGV[2], '%S+') do plan[#plan + 1] = tonumber(word) end
  for i = 1, (#plan - 1) / 2 do
    local limit, period = plan[2 * i], plan[2 * i + 1]
    W[i] = {i = i, l = limit, T = period, r = plan[1], left = limit, rs = now + period,
            cf = false, bo = false, pb = false, id = false, an = false,
            ra = math.floor(now / (period / SLOTS)), rt = 0, rc = 0}
  end
  dirty = true
end

local function cut_of(w)
  return math.floor(w.r * w.l)
end

local function roll(w)
  if now < w.rs then return end
  local missed = math.floor((now - w.rs) / w.T) + 1
  w.rs = w.rs + missed * w.T
  w.left = w.l
  w.cf = false
  w.bo = false
  w.pb = false
end

local function spend(w, n)
  w.left = math.max(0, w.left - n)
end

local function slot_field(w, k)
  return 'r' .. w.i .. ':' .. (k % SIZE)
end

-- _window._slide: move the sliding count to now's slice, forgetting slices older than a
-- period (their hash fields are read, subtracted and deleted).
local function slide(w)
  local at = math.floor(now / (w.T / SLOTS))
  local gap = at - w.ra
  if gap <= 0 then return end
  local fields = {}
  if gap >= SIZE then
    for k = 0, SLOTS do fields[#fields + 1] = slot_field(w, k) end
    w.rt = 0
  else
    if w.rc > 0 then redis.call('HSET', key, slot_field(w, w.ra), w.rc) end
    for k = w.ra + 1, at do fields[#fields + 1] = slot_field(w, k) end
    for _, sent in ipairs(redis.call('HMGET', key, unpack(fields))) do
      if sent then w.rt = w.rt - tonumber(sent) end
    end
  end
  redis.call('HDEL', key, unpack(fields))
  w.ra = at
  w.rc = 0
  dirty = true
end

local function record_sent(w)
  slide(w)
  w.rc = w.rc + 1
  w.rt = w.rt + 1
end

local function sent_recently(w)
  if now >= (w.ra + 1) * (w.T / SLOTS) then slide(w) end
  return w.rt
end

-- This worker's lease: every call from it proves it alive.
local mine = nil
local mine_dirty = false
if mine_raw then
  local m = {struct.unpack(LEASE, mine_raw)}
  mine = {n = m[1], t = now, L = m[3]}
  mine_dirty = true
end

-- A worker that stopped talking for longer than its lease has died: its tokens are
-- released and, since the server may have counted those requests, spent. Looked for
-- only once `sweep` (the earliest a lease can end) has passed.
if now > S.sweep then
  local sweep = math.huge
  local all = redis.call('HGETALL', key)
  for j = 1, #all, 2 do
    local f = all[j]
    if string.sub(f, 1, 2) == 'k:' and f ~= field then
      local m = {struct.unpack(LEASE, all[j + 1])}
      if m[2] + m[3] < now then
        S.n = S.n - m[1]
        for _, w in ipairs(W) do
          roll(w)
          spend(w, m[1])
        end
        redis.call('HDEL', key, f)
      elseif m[2] + m[3] < sweep then
        sweep = m[2] + m[3]
      end
    end
  end
  if mine and now + mine.L < sweep then sweep = now + mine.L end
  S.sweep = sweep
  dirty = true
  counted = true
end

local result = 0
local wait = 0
