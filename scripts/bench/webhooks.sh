#!/usr/bin/env bash
# Webhook ingest rate: wrk POSTs distinct, correctly signed Stripe events (each a new event id,
# so every request verifies, stores the event and queues its job in one transaction).
#   scripts/bench/webhooks.sh http://127.0.0.1:3000 whsec_… [requests] [seconds]
# The server must run with QUIRE_STRIPE_WEBHOOK_SECRET=<secret>; QUIRE_JOB_WORKERS=0 measures the
# ingest path alone (verify, store, enqueue) without the workers competing for the CPU.
set -euo pipefail
base=${1:?base URL}; secret=${2:?webhook secret}; n=${3:-200000}; secs=${4:-10}
dir=$(mktemp -d)
python3 - "$secret" "$n" > "$dir/requests.txt" <<'PY'
import hmac, hashlib, json, sys, time, uuid
secret, n = sys.argv[1].encode(), int(sys.argv[2])
t = int(time.time())
run = uuid.uuid4().hex[:8]
for i in range(n):
    body = json.dumps({"id": f"evt_bench_{run}_{i}", "type": "customer.subscription.updated", "data": {"object": {"id": f"sub_{i}", "customer": f"cus_{i}", "status": "active"}}}, separators=(",", ":"))
    sig = hmac.new(secret, f"{t}.{body}".encode(), hashlib.sha256).hexdigest()
    print(f"t={t},v1={sig}\t{body}")
PY
cat > "$dir/post.lua" <<LUA
local lines = {}
for line in io.lines("$dir/requests.txt") do lines[#lines + 1] = line end
local counter = 0
local thread_id = 0
local threads = 0
setup = function(thread) thread:set("id", threads); threads = threads + 1 end
init = function() thread_id = id end
request = function()
  counter = counter + 1
  local line = lines[((counter * 2 + thread_id) % #lines) + 1]
  local tab = line:find("\t")
  local headers = { ["Content-Type"] = "application/json", ["Stripe-Signature"] = line:sub(1, tab - 1) }
  return wrk.format("POST", "/api/webhooks/stripe", headers, line:sub(tab + 1))
end
LUA
wrk -t2 -c32 -d"${secs}s" -s "$dir/post.lua" "$base"
rm -rf "$dir"
