-- bench/soak.lua: wrk sends LIMIT requests per thread (DEPTH per write,
-- pipelined when DEPTH > 1), then stops that thread and appends a line to
-- DONE_FILE. wrk itself runs for its -d duration whatever its threads do,
-- so bench/server.sh sends it SIGINT once DONE_FILE has a line per thread;
-- wrk then prints its summary as usual. Requests still in flight when a
-- thread stops are not counted as completed. Usage:
--   wrk -t2 -d900s -s bench/soak.lua URL -- LIMIT DEPTH DONE_FILE

function init(args)
	limit = tonumber(args[1])
	depth = tonumber(args[2]) or 1
	done_file = args[3]
	if not limit or not done_file then
		error("soak.lua: usage: -- LIMIT DEPTH DONE_FILE")
	end
	local r = {}
	for i = 1, depth do
		r[i] = wrk.format()
	end
	req = table.concat(r)
	sent = 0
end

function request()
	sent = sent + depth
	if sent > limit and not stopped then
		stopped = true
		local f = assert(io.open(done_file, "a"))
		f:write("done\n")
		f:close()
		wrk.thread:stop()
	end
	return req
end
