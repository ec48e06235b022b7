-- wrk script: X-Api-Key from the environment; POST with a JSON body when WRK_BODY is set.
local key = os.getenv("MA_API_KEY")
local body = os.getenv("WRK_BODY")
wrk.headers["X-Api-Key"] = key
if body and body ~= "" then
  wrk.method = "POST"
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
end
-- no response() hook: it would make wrk run Lua on every answer; wrk counts "Non-2xx or 3xx" itself and
-- summary.errors.status counts statuses > 399.
function done(summary, latency, requests)
  io.write(string.format("p50_ms=%.2f p99_ms=%.2f max_ms=%.2f requests=%d rps=%.1f errors_connect=%d read=%d write=%d timeout=%d status=%d\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000, summary.requests,
    summary.requests / (summary.duration / 1e6), summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.timeout, summary.errors.status))
end
