-- POST /login, cycling through registered accounts (every login succeeds and runs the hasher).
-- wrk -t1 -c8 -d10s -s bench/lua/login.lua http://127.0.0.1:PORT -- logins.txt   (lines: email password)
local bench = dofile((debug.getinfo(1, "S").source:sub(2):match("^(.*/)") or "./") .. "common.lua")

function init(args)
  local requests = {}
  for _, row in ipairs(bench.rows(args[1])) do
    requests[#requests + 1] = bench.json_post("/login", string.format('{"email": "%s", "password": "%s"}', row[1], row[2]))
  end
  request = bench.cycle(requests)
end

setup, done = bench.setup, bench.done
