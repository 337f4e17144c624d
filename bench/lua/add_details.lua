-- POST /users/add_details, each user updating their own details with their own token.
-- wrk -t1 -c8 -d10s -s bench/lua/add_details.lua http://127.0.0.1:PORT -- users.txt   (lines: id token)
local bench = dofile((debug.getinfo(1, "S").source:sub(2):match("^(.*/)") or "./") .. "common.lua")

function init(args)
  local requests = {}
  for i, row in ipairs(bench.rows(args[1])) do
    local body = string.format(
      '{"user_id": "%s", "address": "%d Bench Street", "phone": "+1555%07d", "preferences": {"theme": "dark", "lang": "en", "n": %d}}',
      row[1], i, i, i)
    requests[#requests + 1] = bench.json_post("/users/add_details", body, row[2])
  end
  request = bench.cycle(requests)
end

setup, done = bench.setup, bench.done
