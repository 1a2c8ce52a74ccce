-- bench/static.lua: wrk fetches the files named after `--` in rotation,
-- each under the URL's path (a directory, ending in /). Each thread walks
-- the list from its own starting point, one request at a time per
-- connection. Usage (bench/server.sh passes the 20 files of
-- ../shared/data/static, the precompressed .br/.gz copies left out):
--   wrk -s bench/static.lua http://127.0.0.1:PORT/static/ -- a.js b.css

local threads = 0

function setup(thread)
	thread:set("first", threads)
	threads = threads + 1
end

function init(args)
	reqs = {}
	for i, name in ipairs(args) do
		reqs[i] = wrk.format(nil, wrk.path .. name)
	end
	if #reqs == 0 then
		error("static.lua: no file names after --")
	end
	n = (tonumber(first) or 0) % #reqs
end

function request()
	n = n % #reqs + 1
	return reqs[n]
end
