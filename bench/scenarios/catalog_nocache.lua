-- Every request gets a unique query string, so the catalog's public read cache never hits:
-- this measures the database + serializer path of GET /products.
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end

local counter = 0
function request()
  counter = counter + 1
  local path = string.format("%s&_nocache=%s-%d-%d", wrk.path, bench.run_id, thread_id, counter)
  return wrk.format(nil, path)
end
