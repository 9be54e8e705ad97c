--! include head fast prelude waits admit queue
-- take: one token from every window, or none and the wait (MemoryStore.take, then estimate).
-- args[A] reserved ('1'/'0'), args[A+1] ahead, args[A+2] this worker's lease in seconds,
-- then, to wait in the fleet queue when refused, args[A+3] a ticket (this worker's
-- number for the request; '-' or absent: answer at once, as MemoryStore does) and
-- args[A+4] the longest wait the caller accepts, in seconds ('-': any).
local reserved = args[A] == '1'
local lease = tonumber(args[A + 2])
local ticket = args[A + 3]
if ticket == '-' then ticket = nil end
local score = 0
if reserved then score = BIG end
if ticket then
  -- A queued head whose turn came with time (a reset) goes first, then nobody passes a
  -- ticket of the same or a higher priority: one FIFO queue per priority for the fleet.
  dispatch()
  if S.qn > 0 and queued_before(score + BIG) > 0 then result = 0 else result = 1 end
else
  result = 1
end
if result == 1 and admit(reserved) then
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
  result = 0
  -- 0 when only a response (maybe another worker's) can free the room: the caller rechecks.
  local ahead = tonumber(args[A + 1])
  if ticket then ahead = queued_before(score + BIG) end
  wait = estimate(ahead, reserved)
  local most = tonumber(args[A + 4] or '-')
  -- (A caller that accepts no wait at all is never queued.)
  if ticket and not (most and (wait > most or most <= 0)) then
    -- Queued: whoever frees the room grants it (queue.lua) and publishes the grant.
    local seq = redis.call('HINCRBY', key, 'qs', 1)
    redis.call('ZADD', qkey, score + seq, worker .. ':' .. ticket)
    S.qn = S.qn + 1
    queue_dirty = true
    -- Its grant is leased to this worker: the lease must be known to the grantor.
    if lease > S.lmax then
      S.lmax = lease
      dirty = true
    end
    notify_head(false)
    result = 2
  end
end
--! include epilogue
