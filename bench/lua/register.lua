-- POST a registration with a new username and email on every request.
-- wrk -t1 -c8 -d10s -s bench/lua/register.lua http://127.0.0.1:PORT -- RUN_TAG PASSWORD [PATH [FIELDS]]
-- RUN_TAG keeps names unique across runs against one server ([a-z0-9] only). PATH: /users/register
-- (ours, the old path), /auth/users/ (Djoser), /auth/register (FastAPI-Users). FIELDS: username
-- (default: username, email and password) or email (email and password only: FastAPI-Users).
local bench = dofile((debug.getinfo(1, "S").source:sub(2):match("^(.*/)") or "./") .. "common.lua")

local tag, password, path, fields, n = "r", "Bench-passphrase-42", "/users/register", "username", 0

function init(args)
  tag = args[1] or tag
  password = args[2] or password
  path = args[3] or path
  fields = args[4] or fields
end

function request()
  n = n + 1
  local body
  if fields == "email" then
    body = string.format('{"email": "reg-%s-%d@example.com", "password": "%s"}', tag, n, password)
  else
    -- Djoser's usernames allow letters, digits and @.+-_ only; ours and the old path allow spaces.
    body = string.format('{"username": "reg_%s_%d", "email": "reg-%s-%d@example.com", "password": "%s"}', tag, n, tag, n, password)
  end
  return bench.json_post(path, body)
end

setup, done = bench.setup, bench.done
