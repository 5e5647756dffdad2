-- POST /events with one event per request, a fresh event_id each time (no duplicates).
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end

local function run_hash(s)
  local h = 5381
  for i = 1, #s do h = (h * 33 + s:byte(i)) % 4294967296 end
  return h
end

local counter, lo, span, run = 0, 0, 1, 0
function init(args)
  lo = tonumber(bench.vars.product_min)
  span = tonumber(bench.vars.product_max) - lo + 1
  run = run_hash(bench.run_id)
  math.randomseed(run + thread_id)
end

function request()
  counter = counter + 1
  local event_id = string.format("%08x-%04x-4000-8000-%012x", run, thread_id, counter)
  wrk.body = string.format(
    '{"anonymous_id":"bench-load","event_id":"%s","type":"view","product_id":%d}',
    event_id, lo + math.random(0, span - 1))
  return wrk.format()
end
