-- Shared by the bench scripts: data files, pre-built requests, and a machine-readable summary.
-- Each script loads this with dofile(); run.py parses the "BENCH_JSON" line that done() prints.
local M = {}

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clock_id, bench_timespec *tp);
]]
local ts = ffi.new("bench_timespec")

-- Monotonic seconds (CLOCK_MONOTONIC), for runs that stop before wrk's -d is over.
function M.now()
  ffi.C.clock_gettime(1, ts)
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) / 1e9
end

-- The whitespace-separated fields of each non-empty line of a file.
function M.rows(path)
  assert(path, "give the data file after --, e.g. wrk ... -s join.lua URL -- users.txt")
  local rows = {}
  for line in io.lines(path) do
    local fields = {}
    for field in line:gmatch("%S+") do fields[#fields + 1] = field end
    if #fields > 0 then rows[#rows + 1] = fields end
  end
  assert(#rows > 0, "no rows in " .. path)
  return rows
end

function M.json_post(path, body, token)
  local headers = { ["Content-Type"] = "application/json" }
  if token then headers["Authorization"] = "Bearer " .. token end
  return wrk.format("POST", path, headers, body)
end

function M.with_token(method, path, token)
  local headers = {}
  if token then headers["Authorization"] = "Bearer " .. token end
  return wrk.format(method, path, headers)
end

-- A cycle over pre-built requests (building them in request() would slow wrk down).
function M.cycle(requests)
  local i = 0
  return function()
    i = i % #requests + 1
    return requests[i]
  end
end

-- setup() keeps the threads so that done() can read their globals (t0, t1: a bounded run's clock).
local threads = {}
function M.setup(thread)
  threads[#threads + 1] = thread
end

function M.done(summary, latency, requests)
  local t0, t1 = nil, nil
  for _, thread in ipairs(threads) do
    local a, b = thread:get("t0"), thread:get("t1")
    if a and a > 0 and (t0 == nil or a < t0) then t0 = a end
    if b and b > 0 and (t1 == nil or b > t1) then t1 = b end
  end
  local elapsed = (t0 and t1) and (t1 - t0) or -1
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "bounded_elapsed_s": %.6f, ' ..
    '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f, ' ..
    '"status_errors": %d, "connect_errors": %d, "read_errors": %d, "write_errors": %d, "timeouts": %d}\n',
    summary.requests, summary.duration, elapsed,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    e.status, e.connect, e.read, e.write, e.timeout))
end

return M
