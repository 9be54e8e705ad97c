--! include head prelude waits admit queue
-- cancel: a queued request gave up (cancelled, or out of time): args[A] its ticket leaves
-- the queue. If a grant beat it, the grant's message is on its way and the worker gives
-- the token back. The next head is told when its turn comes.
local member = worker .. ':' .. args[A]
result = redis.call('ZREM', qkey, member)
if result == 1 then
  S.qn = S.qn - 1
  queue_dirty = true
end
dispatch(false)
--! include epilogue
