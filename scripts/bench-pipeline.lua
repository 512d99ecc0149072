-- wrk script for scripts/bench: PIPELINE requests per write (default 16),
-- method, path, content type and body from the environment:
--   BENCH_METHOD (POST), BENCH_PATH (/), BENCH_CTYPE, BENCH_BODY_FILE,
--   BENCH_HEADER (one more "Name: value" header, optional)
-- At the end it prints one line:
--   WRK requests=<n> duration_us=<n> status_errors=<n> socket_errors=<n>

local depth = tonumber(os.getenv("BENCH_PIPELINE") or "16")
local method = os.getenv("BENCH_METHOD") or "POST"
local path = os.getenv("BENCH_PATH") or "/"
local ctype = os.getenv("BENCH_CTYPE") or "application/json"
local body = nil

local f = os.getenv("BENCH_BODY_FILE")
if f and f ~= "" then
   local h = assert(io.open(f, "rb"))
   body = h:read("*a")
   h:close()
end

local batch

init = function(args)
   local headers = {}
   if body then
      headers["Content-Type"] = ctype
   end
   local extra = os.getenv("BENCH_HEADER")
   if extra and extra ~= "" then
      local name, value = extra:match("^([^:]+):%s*(.*)$")
      headers[name] = value
   end
   local r = {}
   for i = 1, depth do
      r[i] = wrk.format(method, path, headers, body)
   end
   batch = table.concat(r)
end

request = function()
   return batch
end

done = function(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      "WRK requests=%d duration_us=%d status_errors=%d socket_errors=%d\n",
      summary.requests, summary.duration, e.status,
      e.connect + e.read + e.write + e.timeout))
end
