-- POST /orders: 20 buyers (their JWTs rotate per request), a unique Idempotency-Key per request, one unit
-- of a random bench SKU (bench.vars.orders_mode = "ample") or of the one hot SKU ("hot", set per scenario
-- through the X-Bench-Mode header, which the server ignores).
local tokens = {}
for token in string.gmatch(bench.vars.orders_tokens, "[^,]+") do
  tokens[#tokens + 1] = token
end

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end

local counter = 0
function request()
  counter = counter + 1
  local variant
  if wrk.headers["X-Bench-Mode"] == "hot" then
    variant = tonumber(bench.vars.orders_hot_variant)
  else
    local lo = tonumber(bench.vars.orders_variant_min)
    local hi = tonumber(bench.vars.orders_variant_max)
    variant = lo + math.random(0, hi - lo)
  end
  local buyer = ((counter + (thread_id or 0) * 7) % #tokens) + 1
  wrk.headers["Authorization"] = "Bearer " .. tokens[buyer]
  wrk.headers["Idempotency-Key"] = string.format("%s-%d-%d", bench.run_id, thread_id or 0, counter)
  wrk.body = string.format(
    '{"lines": [{"variant": %d, "quantity": 1}], "shipping_address": ' ..
    '{"name": "Bench Buyer", "line1": "Av. Larco 123", "city": "Lima", "country": "PE"}}', variant)
  return wrk.format()
end
