-- The state, decoded, and the leases (after head.lua, and for a take after fast.lua).
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
    S = {e = h[2], p = h[3], n = tonumber(got[2]) or 0, sweep = h[4], lmax = h[5], x = h[6],
         lend = h[12], qn = tonumber(got[4]) or 0}
    local v = {struct.unpack('<' .. string.rep('d', FIELDS * h[7]), raw, h[13])}
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
  S = {e = sec, p = -1, n = 0, sweep = math.huge, lmax = 0, x = -1, lend = 0, qn = 0}
end
local now = (sec - S.e) + usec / 1000000
-- What to write back: `s` (dirty), `n` (counted), this worker's lease (mine_dirty).
local dirty = false
local counted = false
local queue_dirty = false
if #W == 0 then
  counted = true
  local plan = {}
  for word in string.gmatch(ARGV[2], '%S+') do plan[#plan + 1] = tonumber(word) end
  S.lend = plan[2]
  -- Tickets of a state that is gone (they share its expiry, so only a manual DEL or a
  -- restart that kept one key): their owners ask again when their subscription drops.
  redis.call('DEL', qkey)
  for i = 1, (#plan - 2) / 2 do
    local limit, period = plan[2 * i + 1], plan[2 * i + 2]
    W[i] = {i = i, l = limit, T = period, r = plan[1], left = limit, rs = now + period,
            cf = false, bo = false, pb = false, id = false, an = false,
            ra = math.floor(now / (period / SLOTS)), rt = 0, rc = 0}
  end
  dirty = true
end

local function full_cut(w)
  return math.floor(w.r * w.l)
end

-- _window.lent_cut: in the last `lend` of a window whose edge a header placed, the part
-- of the reserve held back from lower priorities shrinks linearly to 0 at the reset.
local function cut_of(w)
  local cut = math.floor(w.r * w.l)
  if cut > 0 and S.lend > 0 and w.an then
    local r = w.rs - now
    local stretch = S.lend * w.T
    if r < stretch then
      if r > 0 then return math.floor(cut * r / stretch) end
      return 0
    end
  end
  return cut
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
