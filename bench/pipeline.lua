-- bench/pipeline.lua: wrk sends DEPTH requests back to back in one write
-- and counts each response, as TechEmpower's pipelined plaintext test does
-- (its pipeline.lua, unchanged in substance). The request is wrk's own,
-- with the URL's path and the -H headers. Usage:
--   wrk -s bench/pipeline.lua http://127.0.0.1:PORT/plaintext -- 16

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
