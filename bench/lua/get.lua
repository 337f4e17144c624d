-- A plain GET of one path, with each user's token in turn when a token file is given.
-- wrk -t1 -c1 -d10s -s bench/lua/get.lua http://127.0.0.1:PORT -- /health
-- wrk -t1 -c1 -d10s -s bench/lua/get.lua http://127.0.0.1:PORT -- /users/me users.txt   (lines: id token)
local bench = dofile((debug.getinfo(1, "S").source:sub(2):match("^(.*/)") or "./") .. "common.lua")

function init(args)
  local path, requests = args[1] or "/health", {}
  if args[2] then
    for _, row in ipairs(bench.rows(args[2])) do requests[#requests + 1] = bench.with_token("GET", path, row[2]) end
  else
    requests[1] = bench.with_token("GET", path, nil)
  end
  request = bench.cycle(requests)
end

setup, done = bench.setup, bench.done
