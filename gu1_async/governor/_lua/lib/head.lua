-- Shared head of every governor script: the arguments, the time and the hash's fields.
-- Each script then includes (take only) fast.lua, then prelude.lua: load the state (or
-- ask for the plan to create it), release the in-flight tokens of workers whose lease ran
-- out.
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
--          with tokens in flight: in flight, last seen, lease seconds (packed doubles);
--          `qn` tickets queued in KEYS[2], `qs` the last ticket's sequence number, `h` the
--          last head notice sent (queue.lua)
-- KEYS[2]  the fleet queue, a sorted set: one member `<worker>:<ticket>` per waiting
--          request, scored priority * BIG + sequence (FIFO per priority, interactive first).
--          Both keys share one {hash tag}, so they live in one Redis Cluster slot.
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
--      lease a worker took tokens under), x when the key expires (as last set), window
--      count, then the uncontended take's summary (see fast.lua, written by epilogue.lua):
--      fu (a take before this time rolls or slides nothing; -inf while a window needs a
--      probe), f0 / f1 (the room every window has before `n`, without / with the
--      reserve), tm (the longest period), lend (the last fraction of a window in which
--      its unused reserve is lent to lower priorities); then per window l limit, T period, r reserve, left,
--      rs reset_at, cf confirmed, bo blind_ok, pb probing, id identified, an anchored,
--      ra ring_at (the slice the sliding count is at), rt ring_total, rc the sends in
--      slice ra (kept here, written to its `r<i>:<slot>` field when the count slides on).
local VERSION = 6
local SLOTS = 32
local SIZE = SLOTS + 1
local EPS = 1e-9
local HEAD = '<dddddddddddd'
local FIELDS = 13 -- doubles per window
local LEASE = '<ddd'

local key = KEYS[1]
local qkey = KEYS[2]
local PUBLISH = 'PUBLISH' -- (SPUBLISH on Redis Cluster: the channel is in the keys' slot)
local BIG = 4294967296 -- a ticket's score: priority * BIG + its sequence number
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

local got = redis.pcall('HMGET', key, 's', 'n', field, 'qn', 'h')
