-- bench/pipeline.lua: wrk sends DEPTH requests back to back in one write
-- and counts each response, as TechEmpower's pipelined plaintext test does
-- (its pipeline.lua, unchanged in substance). The request is wrk's own,
-- with the URL's path and the -H headers. Usage:
--   WRK_CONNECTIONS=64 wrk -c64 --latency -s bench/pipeline.lua \
--       http://127.0.0.1:PORT/plaintext -- 16

init = function(args)
	local r = {}
	local depth = tonumber(args[1]) or 1
	for i = 1, depth do
		r[i] = wrk.format()
	end
	req = table.concat(r)
end

request = function()
	return req
end

-- wrk's --latency percentiles are wrong when pipelining: wrk records one
-- latency per batch (write to last response), but its coordinated-omission
-- correction (stats_correct in wrk's stats.c) adds synthetic samples spaced
-- by the time per *response*, most of them below the smallest real sample,
-- where its percentile walk never looks (its 99% line then reads 0). done()
-- undoes that correction, which is exact (the histogram above the smallest
-- sample is all it touches), and prints the batch latency's percentiles.
-- wrk does not tell done() the connection count: WRK_CONNECTIONS does.
done = function(summary, latency, requests)
	local conns = tonumber(os.getenv("WRK_CONNECTIONS") or "")
	local per_conn = conns and math.floor(summary.requests / conns) or 0
	if per_conn == 0 or #latency == 0 then
		return
	end
	-- wrk: interval = runtime_us / (complete / connections); for every
	-- bucket n >= 2 * interval with count c, c is added at n - interval,
	-- n - 2 * interval, ... while above interval. Undo it from the top:
	-- orig[m] = seen[m] - sum over k >= 1 of orig[m + k * interval].
	local e = math.floor(summary.duration / per_conn)
	local seen, lo, hi = {}, nil, 0
	for i = 1, #latency do
		local v, c = latency(i)
		seen[v] = c
		lo = lo or v
		hi = v
	end
	local orig, above, total = {}, {}, 0
	for m = hi, lo, -1 do
		above[m] = (orig[m + e] or 0) + (above[m + e] or 0)
		orig[m] = (seen[m] or 0) - (m > e and above[m] or 0)
		total = total + orig[m]
	end
	local function percentile(p)
		local rank, run = math.ceil(p / 100 * total), 0
		for m = lo, hi do
			run = run + orig[m]
			if run >= rank then
				return m
			end
		end
		return hi
	end
	io.write(string.format("pipeline.lua: batch latency p50_us=%d p99_us=%d batches=%d\n",
		percentile(50), percentile(99), total))
end
