-- POST /inventory/movements: a receive of 1 unit into a random bench variant (spreads row locks).
local counter = 0
function request()
  counter = counter + 1
  local lo = tonumber(bench.vars.variant_min)
  local hi = tonumber(bench.vars.variant_max)
  local variant = lo + math.random(0, hi - lo)
  wrk.body = string.format('{"variant": %d, "kind": "receive", "quantity": 1, "reason": "bench %s"}',
    variant, bench.run_id)
  return wrk.format()
end
