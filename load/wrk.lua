-- wrk's hooks for the load benchmark (load/src/main.rs runs wrk with this
-- script). wrk runs each hook in a Lua state of its own per thread, so the
-- count of answers that were not 2xx is kept per thread and added up in
-- `done`, which then prints one line of JSON for the benchmark to read.

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

-- One request per connection (LOAD_CONNECTION=close): every request says
-- `Connection: close`, so that a server that would keep the connection open
-- (nginx, part 9) answers once and closes, as the stages before part 9
-- always do; wrk then connects again. Otherwise wrk sends its next request
-- on the same connection for as long as the server keeps it open.
if os.getenv("LOAD_CONNECTION") == "close" then
   wrk.headers["Connection"] = "close"
end

-- Set in each thread's own state.
not_2xx = 0

-- Looking at every answer's status costs wrk time (it then parses each
-- answer's headers for Lua), which would cap the figures of the fastest
-- server: only the quick mode asks for it. Otherwise wrk's own count of
-- answers with a status of 400 or more stands in.
if os.getenv("LOAD_EVERY_STATUS") == "1" then
   function response(status, headers, body)
      if status < 200 or status > 299 then
         not_2xx = not_2xx + 1
      end
   end
end

function done(summary, latency, requests)
   local total_not_2xx = summary.errors.status
   for _, thread in ipairs(threads) do
      total_not_2xx = total_not_2xx + thread:get("not_2xx")
   end
   local errors = summary.errors
   io.write(string.format(
      'LOAD {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,' ..
      '"write":%d,"timeout":%d,"not_2xx":%d,"p50_us":%d,"p99_us":%d}\n',
      summary.requests, summary.duration, errors.connect, errors.read,
      errors.write, errors.timeout, total_not_2xx,
      latency:percentile(50), latency:percentile(99)))
end
