-- POST /users/register with a new username and email on every request.
-- wrk -t1 -c8 -d10s -s bench/lua/register.lua http://127.0.0.1:PORT -- RUN_TAG PASSWORD
-- RUN_TAG keeps names unique across runs against one server ([a-z0-9] only).
local bench = dofile((debug.getinfo(1, "S").source:sub(2):match("^(.*/)") or "./") .. "common.lua")

local tag, password, n = "r", "Bench-passphrase-42", 0

function init(args)
  tag = args[1] or tag
  password = args[2] or password
end

function request()
  n = n + 1
  local body = string.format('{"username": "reg %s %d", "email": "reg-%s-%d@example.com", "password": "%s"}', tag, n, tag, n, password)
  return bench.json_post("/users/register", body)
end

setup, done = bench.setup, bench.done
