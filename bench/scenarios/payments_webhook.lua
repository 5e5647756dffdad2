-- POST /payments/webhooks/mercadopago with a new notification id per request (what Mercado Pago sends for
-- distinct events). The signature covers data.id, x-request-id and ts, not the body, so one signed header
-- set serves every request.
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end

local counter = 0
function request()
  counter = counter + 1
  wrk.body = string.format(
    '{"id": "%s-%d-%d", "live_mode": false, "type": "payment", "api_version": "v1", ' ..
    '"action": "payment.updated", "data": {"id": "%s"}}',
    bench.run_id, thread_id or 0, counter, bench.vars.payments_data_id)
  return wrk.format()
end
