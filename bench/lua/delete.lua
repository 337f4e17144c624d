-- DELETE /users/delete_user/{id}: each request deletes a different user, once each. The run
-- stops when every listed user has been answered (or at wrk's -d) and times itself from the
-- first request to the last response (t0..t1), because wrk's own duration is always the full -d.
-- wrk -t1 -c8 -d60s -s bench/lua/delete.lua http://127.0.0.1:PORT -- victims.txt [done-file]   (lines: id token)
-- wrk itself waits for -d to pass; the optional done-file is written when the last answer is in,
-- so that the caller can end wrk early with SIGINT (wrk then prints its summary as usual).
local bench = dofile((debug.getinfo(1, "S").source:sub(2):match("^(.*/)") or "./") .. "common.lua")

local requests, sent, received, running, done_file = {}, 0, 0, false, nil
t0, t1 = 0, 0

function init(args)
  done_file = args[2]
  for _, row in ipairs(bench.rows(args[1])) do
    requests[#requests + 1] = bench.with_token("DELETE", "/users/delete_user/" .. row[1], row[2])
  end
end

-- wrk calls delay() before each request it sends. Once every user has been asked for, a
-- connection waits (past -d) instead of sending a duplicate.
function delay()
  running = true
  if sent >= #requests then return 600000 end
  return 0
end

function request()
  -- wrk calls request() once before the run to inspect it; that call must not use up a user.
  if not running then return requests[1] end
  if t0 == 0 then t0 = bench.now() end
  sent = sent + 1
  return requests[sent]
end

function response(status, headers, body)
  received = received + 1
  t1 = bench.now()
  if received >= #requests then
    wrk.thread:stop()
    if done_file then
      local f = assert(io.open(done_file, "w"))
      f:write(string.format("%d\n", received))
      f:close()
    end
  end
end

setup, done = bench.setup, bench.done
