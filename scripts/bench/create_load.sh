# Sourced by the bench scripts: the create load they share.
#   bench_token BIN        a read/write token for the seeded writer demo1@quire.test
#   write_post_lua FILE TOKEN   a wrk script: POST /api/v1/posts with that token, the same title each time
bench_token() {
  "$1" token create --email demo1@quire.test --name bench --scopes read,write 2>/dev/null | grep -o 'qrt_[A-Za-z0-9_-]*' | head -1
}
write_post_lua() {
  cat > "$1" <<LUA
wrk.method = "POST"
wrk.body = '{"title":"Benchmark post","body":"A body of a few words, as a bench would send.","category":"tech"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $2"
LUA
}
