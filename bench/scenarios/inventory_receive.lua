-- POST /inventory/movements: a receive of 1 unit into a random stocked bench variant (spreads row locks).
local ids = nil
function request()
  if ids == nil then
    ids = {}
    for id in string.gmatch(bench.vars.inventory_variant_ids, "%d+") do
      ids[#ids + 1] = id
    end
  end
  wrk.body = string.format('{"variant": %s, "kind": "receive", "quantity": 1, "reason": "bench %s"}',
    ids[math.random(1, #ids)], bench.run_id)
  return wrk.format()
end
