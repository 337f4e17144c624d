-- POST a login, cycling through registered accounts (every login succeeds and runs the hasher).
-- wrk -t1 -c8 -d10s -s bench/lua/login.lua http://127.0.0.1:PORT -- logins.txt [PATH [FORM]]
-- logins.txt: lines "email password". PATH: /login (ours, the old path), /auth/jwt/create/ (Djoser),
-- /auth/jwt/login (FastAPI-Users). FORM: json-email (default: {"email", "password"}),
-- json-username ({"username", "password"}, Djoser) or form (username=...&password=..., FastAPI-Users).
local bench = dofile((debug.getinfo(1, "S").source:sub(2):match("^(.*/)") or "./") .. "common.lua")

local function urlencode(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function init(args)
  local path, form, requests = args[2] or "/login", args[3] or "json-email", {}
  for _, row in ipairs(bench.rows(args[1])) do
    if form == "form" then
      local body = "username=" .. urlencode(row[1]) .. "&password=" .. urlencode(row[2])
      requests[#requests + 1] = wrk.format("POST", path, { ["Content-Type"] = "application/x-www-form-urlencoded" }, body)
    else
      local key = form == "json-username" and "username" or "email"
      requests[#requests + 1] = bench.json_post(path, string.format('{"%s": "%s", "password": "%s"}', key, row[1], row[2]))
    end
  end
  request = bench.cycle(requests)
end

setup, done = bench.setup, bench.done
