-- estimate: seconds before the request after ARGV[A+1] queued ones can start (read only).
wait = estimate(tonumber(ARGV[A + 1]), ARGV[A] == '1')
