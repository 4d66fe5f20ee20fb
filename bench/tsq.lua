-- wrk script: POSTs a fixed DER TimeStampReq (path in env TSQ) and counts non-200 replies.
-- Optional env DELAY_MS: pause between requests on each connection (for the fixed-rate run).
local f = assert(io.open(os.getenv("TSQ"), "rb"))
local body = f:read("*all")
f:close()
wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/timestamp-query"
local delay_ms = tonumber(os.getenv("DELAY_MS") or "0")

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  non200 = 0
  math.randomseed(os.time() + (tonumber(tostring({}):match("0x(%x+)"), 16) or 0) % 100000)
end

-- Exponentially distributed pauses (mean DELAY_MS): the connections drift apart and arrivals
-- approach a Poisson stream, instead of every connection firing in lock-step bursts.
function delay()
  if delay_ms <= 0 then return 0 end
  return math.floor(-delay_ms * math.log(1 - math.random()) + 0.5)
end

function response(status, headers, body)
  if status ~= 200 then non200 = non200 + 1 end
end

function done(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do bad = bad + t:get("non200") end
  local secs = summary.duration / 1e6
  io.write(string.format("RESULT rps=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f requests=%d non200=%d socket_errors=%d\n",
    summary.requests / secs, latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    summary.requests, bad,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout + summary.errors.status))
end
