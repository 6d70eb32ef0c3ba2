#!/usr/bin/env bash
# Quire against a bare axum + sqlx server (examples/bare.rs) doing the same queries on the same
# seeded SQLite database (each server on a copy of its own), in one run, and against a Next.js app doing the same (scripts/bench/nextjs:
# route handlers and a server-rendered page on better-sqlite3; npm packages, skipped with
# BENCH_NEXTJS=0 or where there is no npm). Each server runs pinned to core 0, wrk to core 1; every
# endpoint is measured on each, one after the other, and reported as Quire ÷ bare and Quire ÷ Next.js. Then Quire's
# RSS after the load, what a first visit to each page downloads for the browser (brotli), and
# its cold start (exec until /api/v1/health answers).
#
# This machine's speed drifts by tens of percent from one minute to the next, so each row is
# BENCH_ROUNDS rounds of Quire then bare, and reports the median of each and of the per-round
# ratios (a ratio taken seconds apart, not minutes).
#
#   scripts/bench/compare.sh            BENCH_POSTS=10000 BENCH_SECONDS=5 BENCH_ROUNDS=3
#                                       BENCH_CONNECTIONS=64
#                                       (BENCH_NO_BUILD=1: measure the release build as it is)
set -euo pipefail
cd "$(dirname "$0")/../.."
POSTS=${BENCH_POSTS:-10000}
SECONDS_EACH=${BENCH_SECONDS:-5}
ROUNDS=${BENCH_ROUNDS:-3}
CONNS=${BENCH_CONNECTIONS:-64}
QUIRE_PORT=3300
RENDER_PORT=3301
BARE_PORT=3400
NEXT_PORT=3500

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
scripts/setup
. scripts/env.sh
. scripts/bench/create_load.sh
if ! command -v wrk >/dev/null || ! command -v taskset >/dev/null; then
  say "installing wrk (Debian)"
  sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq wrk util-linux >/dev/null
fi

if [ -z "${BENCH_NO_BUILD:-}" ]; then
  say "building Quire (release) and the bare baseline"
  cargo leptos build --release --precompress --split 2>&1 | tail -1
fi
cargo build --release --example bare --no-default-features --features ssr 2>&1 | tail -1
nextjs=""
if [ "${BENCH_NEXTJS:-1}" != 0 ] && command -v npm >/dev/null; then
  say "building the Next.js baseline (scripts/bench/nextjs)"
  (
    cd scripts/bench/nextjs
    export NEXT_TELEMETRY_DISABLED=1
    [ -f node_modules/better-sqlite3/build/Release/better_sqlite3.node ] || npm ci --no-audit --no-fund
    if [ -z "${BENCH_NO_BUILD:-}" ] || [ ! -f .next/BUILD_ID ]; then node_modules/.bin/next build >/dev/null; fi
  )
  nextjs=1
fi

data=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$data"; }
trap cleanup EXIT
export QUIRE_DATA_DIR="$data" QUIRE_LOG=warn
say "seeding $POSTS posts"
target/release/quire seed --posts "$POSTS" | tail -1
token=$(bench_token target/release/quire)
# Each server writes a copy of its own of the same seeded file: on one shared file each one's
# writers met the others' locks (errors after the busy timeout) and Quire's node emptied the
# log the others filled.
# (SQLite's backup, through Python's module: the file alone can miss what is still in its log.)
for copy in bare next; do
  python3 -c 'import sqlite3, sys; sqlite3.connect(sys.argv[1]).backup(sqlite3.connect(sys.argv[2]))' \
    "$data/quire.db" "$data/$copy.db"
done

# Rate limits out of the way: this measures throughput, not the limiter's refusals.
limits=(QUIRE_RATE_LIMIT_AUTH=1000000000 QUIRE_RATE_LIMIT_ANON=1000000000 QUIRE_RATE_LIMIT_USER=1000000000)
for port in "$QUIRE_PORT" "$RENDER_PORT" "$BARE_PORT" "$NEXT_PORT"; do
  if curl -s -o /dev/null "http://127.0.0.1:$port/"; then echo "port $port is taken: stop what serves it first"; exit 1; fi
done
wait_for() { for _ in $(seq 1 200); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.05; done; echo "no answer from $1"; exit 1; }
env "${limits[@]}" QUIRE_ADDR="127.0.0.1:$QUIRE_PORT" taskset -c 0 target/release/quire serve &
pids+=($!); quire_pid=$!
taskset -c 0 target/release/examples/bare "$data/bare.db" "127.0.0.1:$BARE_PORT" &
pids+=($!); bare_pid=$!
wait_for "http://127.0.0.1:$QUIRE_PORT/api/v1/health"
wait_for "http://127.0.0.1:$BARE_PORT/"
if [ -n "$nextjs" ]; then
  (cd scripts/bench/nextjs && NEXT_TELEMETRY_DISABLED=1 QUIRE_BENCH_DB="$data/next.db" NODE_ENV=production \
    exec taskset -c 0 node node_modules/next/dist/bin/next start -H 127.0.0.1 -p "$NEXT_PORT" >/dev/null) &
  pids+=($!); next_pid=$!
  wait_for "http://127.0.0.1:$NEXT_PORT/"
fi

post_lua=$(mktemp --suffix=.lua)
write_post_lua "$post_lua" "$token"

rps() { # url [wrk args…] → requests/s (failed answers are counted by wrk as requests: say so)
  local url=$1 out; shift
  out=$(taskset -c 1 wrk -t1 -c"$CONNS" -d"${DURATION:-$SECONDS_EACH}s" --latency "$@" "$url")
  if grep -q 'Non-2xx or 3xx\|Socket errors' <<<"$out"; then
    echo "!! $url: $(grep 'Non-2xx or 3xx\|Socket errors' <<<"$out" | tr -s ' ' | paste -sd';')" >&2
  fi
  awk '/Requests\/sec/ { print $2 }' <<<"$out"
}
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
row() { # name path [wrk args…]   (QPORT: the Quire to measure)
  local name=$1 path=$2; shift 2
  local q b n port=${QPORT:-$QUIRE_PORT} qs=() bs=() ns=() ratios=() nratios=()
  DURATION=2 rps "http://127.0.0.1:$port$path" "$@" >/dev/null   # warm up each
  DURATION=2 rps "http://127.0.0.1:$BARE_PORT$path" "$@" >/dev/null
  [ -z "$nextjs" ] || DURATION=2 rps "http://127.0.0.1:$NEXT_PORT$path" "$@" >/dev/null
  for _ in $(seq "$ROUNDS"); do
    q=$(rps "http://127.0.0.1:$port$path" "$@")
    b=$(rps "http://127.0.0.1:$BARE_PORT$path" "$@")
    qs+=("$q"); bs+=("$b"); ratios+=("$(echo "$q / $b" | bc -l)")
    if [ -n "$nextjs" ]; then
      n=$(rps "http://127.0.0.1:$NEXT_PORT$path" "$@")
      ns+=("$n"); nratios+=("$(echo "$q / $n" | bc -l)")
    fi
  done
  printf '| %-42s | %10.0f | %10.0f | %6.2f |' "$name" "$(median "${bs[@]}")" "$(median "${qs[@]}")" "$(median "${ratios[@]}")"
  [ -z "$nextjs" ] || printf ' %10.0f | %6.1f |' "$(median "${ns[@]}")" "$(median "${nratios[@]}")"
  echo
}

say "load: $ROUNDS rounds of ${SECONDS_EACH}s per endpoint and server, $CONNS connections (medians)"
printf '| %-42s | %10s | %10s | %6s |' "endpoint (requests/s)" "bare" "Quire" "Q÷bare"
[ -z "$nextjs" ] || printf ' %10s | %6s |' "Next.js" "Q÷Next"
echo
printf '|%s|%s|%s|%s|' "--------------------------------------------" "------------" "------------" "--------"
[ -z "$nextjs" ] || printf '%s|%s|' "------------" "--------"
echo
row 'GET / (SSR, 20 posts; page cache)' / -H 'Accept: text/html'
# The same Quire with its page cache off (what rendering the page itself costs), running only
# for its own row: a third process on the same SQLite file skews the others' numbers.
env "${limits[@]}" QUIRE_PAGE_CACHE=off QUIRE_JOB_WORKERS=0 QUIRE_ADDR="127.0.0.1:$RENDER_PORT" \
  taskset -c 0 target/release/quire serve &
render_pid=$!
wait_for "http://127.0.0.1:$RENDER_PORT/api/v1/health"
QPORT=$RENDER_PORT row 'GET / rendered (QUIRE_PAGE_CACHE=off)' / -H 'Accept: text/html'
# What every rendered page costs before its data: every layer and one database round trip
# (health), and a page with no data (/login), on the same rendering Quire.
fixed_health=$(rps "http://127.0.0.1:$RENDER_PORT/api/v1/health")
fixed_login=$(rps "http://127.0.0.1:$RENDER_PORT/login" -H 'Accept: text/html')
kill "$render_pid"; wait "$render_pid" 2>/dev/null || true
row 'GET /api/v1/posts?limit=20 anonymous' '/api/v1/posts?limit=20'
row 'GET /api/v1/posts?limit=20 bearer' '/api/v1/posts?limit=20' -H "Authorization: Bearer $token"
row 'POST /api/v1/posts (bearer, same title)' /api/v1/posts -s "$post_lua"

# The baselines are done: stop them, so that they take no CPU while Quire is measured on.
kill "$bare_pid" 2>/dev/null || true; wait "$bare_pid" 2>/dev/null || true
[ -z "$nextjs" ] || { kill "$next_pid" 2>/dev/null || true; wait "$next_pid" 2>/dev/null || true; }

printf '\nRendering Quire alone: GET /api/v1/health (layers + a database ping) %.0f/s, GET /login (a page, no data) %.0f/s\n' "$fixed_health" "$fixed_login"
rss=$(awk '/VmRSS/ { print $2 }' "/proc/$quire_pid/status")
printf 'RSS after load: %.1f MiB\n' "$(echo "$rss / 1024" | bc -l)"

# What a first visit downloads for the browser, page by page (islands load their own wasm
# chunks: see scripts/bench/bundle.py), anonymously and signed in as a seeded writer.
jar=$(mktemp)
curl -fs -c "$jar" -X POST "http://127.0.0.1:$QUIRE_PORT/fn/login" -H 'accept: application/json' \
  --data-urlencode email=demo1@quire.test --data-urlencode password=quire-demo-password >/dev/null
session=$(awk '$6 == "quire_session" { print "quire_session=" $7 }' "$jar"); rm -f "$jar"
echo
python3 scripts/bench/bundle.py "http://127.0.0.1:$QUIRE_PORT" target/site/pkg "$session"

# Cold start: from exec to the first answer of /api/v1/health, best of five.
kill "$quire_pid"; wait "$quire_pid" 2>/dev/null || true
best=""
for _ in 1 2 3 4 5; do
  ms=$(python3 - "$QUIRE_PORT" <<'PY'
import os, socket, subprocess, sys, time
port = int(sys.argv[1])
env = dict(os.environ, QUIRE_ADDR=f"127.0.0.1:{port}")
start = time.monotonic()
proc = subprocess.Popen(["target/release/quire", "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
while True:
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=1)
        s.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        if s.recv(12).startswith(b"HTTP/1.1 200"):
            break
    except OSError:
        time.sleep(0.0005)
print(f"{(time.monotonic() - start) * 1000:.1f}")
proc.terminate(); proc.wait()
PY
)
  if [ -z "$best" ] || [ "$(echo "$ms < $best" | bc -l)" = 1 ]; then best=$ms; fi
done
echo "Cold start (exec → health answers, best of 5): $best ms"

