-- POST /events with a batch of bench.vars.batch events, fresh event_ids (no duplicates).
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

local types = {"view", "view", "view", "view", "view", "view", "view", "view", "click", "add_to_cart"}
local counter, lo, span, run, size = 0, 0, 1, 0, 100
function init(args)
  lo = tonumber(bench.vars.product_min)
  span = tonumber(bench.vars.product_max) - lo + 1
  size = tonumber(bench.vars.batch)
  run = run_hash(bench.run_id)
  math.randomseed(run + thread_id)
end

function request()
  local parts = {}
  for i = 1, size do
    counter = counter + 1
    parts[i] = string.format(
      '{"event_id":"%08x-%04x-4000-8000-%012x","type":"%s","product_id":%d,"context":{"placement":"home","position":%d}}',
      run, thread_id, counter, types[math.random(1, 10)], lo + math.random(0, span - 1), i % 12)
  end
  wrk.body = '{"anonymous_id":"bench-load","events":[' .. table.concat(parts, ",") .. ']}'
  return wrk.format()
end
