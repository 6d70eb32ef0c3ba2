#!/usr/bin/env bash
# Another writer beside a stream of creates: while wrk sends POST /api/v1/posts (64 connections,
# server on core 0), a second process writes to the same SQLite file every 20 ms; prints its
# transactions' latency and the creates' rate. It shows whether Quire's group commit leaves other
# writers a turn (they wait in SQLite's busy handler). Needs a release build and wrk.
#
#   scripts/bench/other_writer.sh [binary, default target/release/quire] [seconds, default 12]
set -u
cd "$(dirname "$0")/../.."
. scripts/bench/create_load.sh
BIN=${1:-target/release/quire}; SECS=${2:-12}
data=$(mktemp -d)
export QUIRE_DATA_DIR=$data QUIRE_LOG=error
$BIN seed --posts 10000 >/dev/null
write_post_lua "$data/post.lua" "$(bench_token "$BIN")"
QUIRE_RATE_LIMIT_AUTH=1000000000 QUIRE_RATE_LIMIT_ANON=1000000000 QUIRE_RATE_LIMIT_USER=1000000000 QUIRE_ADDR=127.0.0.1:3390 taskset -c 0 $BIN serve 2>/dev/null &
pid=$!
for _ in $(seq 100); do curl -fs http://127.0.0.1:3390/api/v1/health >/dev/null && break; sleep 0.05; done
taskset -c 1 wrk -t1 -c64 -d${SECS}s -s $data/post.lua http://127.0.0.1:3390/api/v1/posts > $data/wrk.out &
wpid=$!
sleep 1
taskset -c 1 python3 - $data/quire.db <<'PY'
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=5.0)
lat=[]; fails=0; end=time.time()+9
while time.time() < end:
    t=time.time()
    try:
        c.execute("BEGIN IMMEDIATE"); c.execute("UPDATE users SET updated_at = updated_at WHERE id = 1"); c.execute("COMMIT")
        lat.append((time.time()-t)*1000)
    except sqlite3.OperationalError as e:
        fails+=1
        try: c.execute("ROLLBACK")
        except Exception: pass
    time.sleep(0.02)
lat.sort()
n=len(lat)
print(f"other writer: {n} ok, {fails} busy; p50 {lat[n//2]:.1f} ms, p90 {lat[int(n*.9)]:.1f}, max {lat[-1]:.1f}" if n else f"0 ok, {fails} busy")
PY
wait $wpid
grep -E "Requests/sec|Non-2xx" $data/wrk.out | tr -s ' ' | paste -sd';'
kill $pid; wait $pid 2>/dev/null; rm -rf $data
