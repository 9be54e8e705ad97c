--! include head prelude waits
-- estimate: seconds before the request after args[A+1] queued ones can start (read only).
wait = estimate(tonumber(args[A + 1]), args[A] == '1')
--! include epilogue
