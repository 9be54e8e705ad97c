-- The fleet queue (KEYS[2]): one FIFO queue per priority for every worker on the key.
-- A refused take with a ticket joins it (take.lua); whoever frees room (a permit's end, a
-- cancelled ticket, the head's owner when its timer says the head's turn has come) grants
-- the heads here, in Redis, and publishes each grant on its worker's channel
-- (`<prefix>:w:<worker>`, in the keys' hash slot). Waiting workers send nothing: the head's
-- owner alone is told when its turn can come (a `h` notice) and looks then.
-- PUBLISH answers how many listen: a worker nobody hears is gone (or lost its
-- subscription, and then asks again): its grant is undone and its tickets dropped.

local base = string.sub(key, 1, -7) -- KEYS[1] without ':state'

local function channel(wk)
  return base .. ':w:' .. wk
end

local function owner(member)
  local sep = string.find(member, ':', 1, true)
  return string.sub(member, 1, sep - 1), string.sub(member, sep + 1)
end

-- Tickets queued with a score below `limit` (priority * BIG: those of higher priorities).
local function queued_before(limit)
  return redis.call('ZCOUNT', qkey, '-inf', '(' .. limit)
end

-- A grant counts in its worker's lease, as its own takes do (a worker that dies with
-- granted tokens has them released by the sweep).
local function lease_add(wk, k)
  local L
  if wk == worker then
    if not mine then mine = {n = 0, t = now, L = S.lmax} end
    mine.n = mine.n + k
    mine_dirty = true
    L = mine.L
  else
    local f = 'k:' .. wk
    local raw_lease = redis.call('HGET', key, f)
    local held = 0
    L = S.lmax
    if raw_lease then
      local m = {struct.unpack(LEASE, raw_lease)}
      held, L = m[1], m[3]
    end
    redis.call('HSET', key, f, struct.pack(LEASE, held + k, now, L))
  end
  if now + L < S.sweep then
    S.sweep = now + L
    dirty = true
  end
end

local function drop_worker(wk)
  local prefix = wk .. ':'
  for _, m in ipairs(redis.call('ZRANGE', qkey, 0, -1)) do
    if string.sub(m, 1, #prefix) == prefix then
      redis.call('ZREM', qkey, m)
      S.qn = S.qn - 1
    end
  end
  queue_dirty = true
end

-- Tell the head's owner when its turn can come (once per head and moment, or always when
-- `force`): in how many microseconds, or -1 when only a response can free the room (the
-- response's end grants it). Returns how many heard it and the owner (nil: no queue).
local function notify_head(force)
  if S.qn <= 0 then return nil, nil end
  local head = redis.call('ZRANGE', qkey, 0, 0, 'WITHSCORES')
  if #head == 0 then
    S.qn = 0
    queue_dirty = true
    return nil, nil
  end
  local w8 = estimate(0, tonumber(head[2]) >= BIG)
  if w8 <= 0 then
    -- Only a response can make room. If the request it waits for was a dead worker's,
    -- the sweep at its lease's end frees it: look then.
    if S.n > 0 and S.sweep < math.huge then w8 = math.max(S.sweep - now, 0.001) else w8 = -1 end
  end
  local us = -1
  if w8 >= 0 then us = math.floor(w8 * 1000000 + 0.5) end
  local note = head[1] .. ' ' .. math.floor((now + w8) * 1000)
  if not force and note == got[5] then return 1, nil end
  got[5] = note
  redis.call('HSET', key, 'h', note)
  local wk, t = owner(head[1])
  return redis.call(PUBLISH, channel(wk), 'h ' .. t .. ' ' .. us), wk
end

-- Grant the queue's heads while the windows allow (interactive first, FIFO within).
local function dispatch(force)
  for _ = 1, 8 do -- again only when a worker turned out gone
    if S.qn <= 0 then return end
    local grants, order, gone = {}, {}, false
    while S.qn > 0 do
      local head = redis.call('ZRANGE', qkey, 0, 0, 'WITHSCORES')
      if #head == 0 then
        S.qn = 0
        break
      end
      if not admit(tonumber(head[2]) >= BIG) then break end
      redis.call('ZREM', qkey, head[1])
      S.qn = S.qn - 1
      local wk, t = owner(head[1])
      if not grants[wk] then
        grants[wk] = {}
        order[#order + 1] = wk
      end
      local g = grants[wk]
      g[#g + 1] = t
    end
    queue_dirty = true
    for _, wk in ipairs(order) do
      local g = grants[wk]
      if redis.call(PUBLISH, channel(wk), 'g ' .. table.concat(g, ' ')) > 0 then
        lease_add(wk, #g)
      else
        S.n = S.n - #g
        drop_worker(wk)
        gone = true
      end
    end
    if gone and S.n == 0 then
      for _, w in ipairs(W) do
        if not (w.cf or w.bo) then w.pb = false end -- an undone probe
      end
    end
    if not gone then
      local heard, wk = notify_head(force)
      if heard ~= 0 then return end
      drop_worker(wk)
    end
  end
end
