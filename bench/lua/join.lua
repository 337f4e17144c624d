-- GET /users/user_with_details/{id}, each user reading themselves with their own token.
-- wrk -t1 -c8 -d10s -s bench/lua/join.lua http://127.0.0.1:PORT -- users.txt   (lines: id token)
local bench = dofile((debug.getinfo(1, "S").source:sub(2):match("^(.*/)") or "./") .. "common.lua")

function init(args)
  local requests = {}
  for _, row in ipairs(bench.rows(args[1])) do
    requests[#requests + 1] = bench.with_token("GET", "/users/user_with_details/" .. row[1], row[2])
  end
  request = bench.cycle(requests)
end

setup, done = bench.setup, bench.done
