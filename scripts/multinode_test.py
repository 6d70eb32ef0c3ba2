#!/usr/bin/env python3
"""Two Quire nodes on one PostgreSQL database and a private Redis, as a load balancer would
see them; proves what they share (scripts/test runs this).

  scripts/multinode_test.py BINARY DATABASE_URL

Starts redis-server (Debian's) on a free port and two `quire serve` nodes with REDIS_URL and
QUIRE_METRICS_ADDR, then checks: one sign-in budget across the nodes; a write on A is on B's
cached read at once (API and page); an event raised on A reaches an SSE client on B; Stripe
deliveries spread over both nodes each run once; with Redis stopped both nodes keep serving
reads and writes; with Redis back, sharing is restored; /metrics on each node has every
series and is not on the public address."""
import hashlib, hmac, http.client, json, os, shutil, socket, subprocess, sys, tempfile, threading, time, urllib.request, urllib.error

BINARY, DATABASE_URL = sys.argv[1], sys.argv[2]
STRIPE_SECRET = "whsec_multinode"
procs, dirs = [], []


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def say(msg):
    print(f"  - {msg}", flush=True)


def request(base, method, path, body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method, headers=dict(headers or {}))
    if data is not None:
        req.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


def start_redis(port):
    p = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return p
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("redis-server did not start")


def start_node(name, port, metrics_port, redis_port):
    d = tempfile.mkdtemp(prefix=f"quire-{name}-")
    dirs.append(d)
    env = dict(os.environ, DATABASE_URL=DATABASE_URL, REDIS_URL=f"redis://127.0.0.1:{redis_port}",
               QUIRE_ADDR=f"127.0.0.1:{port}", QUIRE_METRICS_ADDR=f"127.0.0.1:{metrics_port}",
               QUIRE_DATA_DIR=d, QUIRE_LOG="warn", QUIRE_RATE_LIMIT_AUTH="10",
               QUIRE_RATE_LIMIT_ANON="100000", QUIRE_RATE_LIMIT_USER="100000",
               QUIRE_STRIPE_WEBHOOK_SECRET=STRIPE_SECRET, QUIRE_JOB_POLL_MS="50")
    log = open(os.path.join(d, "server.log"), "w")
    p = subprocess.Popen([BINARY, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    procs.append((name, p, os.path.join(d, "server.log")))
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if request(base, "GET", "/api/v1/ready")[0] == 200:
                return base
        except OSError:
            pass
        if p.poll() is not None:
            break
        time.sleep(0.1)
    raise RuntimeError(f"node {name} did not become ready")


def eventually(what, check, seconds=10):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out: {what}")


def register(base, email):
    """An account and a token, made with the CLI as an operator would (the API's sign-up draws
    on the very budget under test)."""
    env = dict(os.environ, DATABASE_URL=DATABASE_URL, QUIRE_PASSWORD="password123", QUIRE_LOG="warn")
    out = subprocess.run([BINARY, "user", "create", "--email", email, "--name", email.split("@")[0]],
                         env=env, check=True, capture_output=True, text=True).stdout
    uid = int(out.split("(id ")[1].split(",")[0])
    token = subprocess.run([BINARY, "token", "create", "--email", email], env=env, check=True,
                           capture_output=True, text=True).stdout.strip().splitlines()[-1]
    return uid, token


def bearer(token):
    return {"authorization": f"Bearer {token}"}


def new_post(base, token, title):
    s, _, b = request(base, "POST", "/api/v1/posts", {"title": title, "body": "Shared", "category": "tech", "published": True}, bearer(token))
    expect(s == 201, f"create on {base}: {s} {b[:200]}")
    return json.loads(b)


def cached_list_sees_write(a, b, token, title):
    request(b, "GET", "/api/v1/posts")
    s, h, _ = request(b, "GET", "/api/v1/posts")
    expect(h.get("x-cache") == "HIT" or h.get("X-Cache") == "HIT", f"B's second read is a cache hit (got {h.get('x-cache')})")
    post = new_post(a, token, title)
    s, h, body = request(b, "GET", "/api/v1/posts")
    expect(s == 200 and title.encode() in body, f"B's next read shows the post written on A at once: {h.get('x-cache')}")
    return post


def budget_is_shared(a, b):
    for i in range(10):
        s, _, _ = request(a if i % 2 == 0 else b, "POST", "/api/v1/auth/token", {"email": "nobody@example.com", "password": "wrong-password"})
        expect(s == 401, f"attempt {i + 1} is counted, not refused: {s}")
    s, h, _ = request(b, "POST", "/api/v1/auth/token", {"email": "nobody@example.com", "password": "wrong-password"})
    expect(s == 429, f"the eleventh attempt over both nodes is 429, got {s}")


def sse_event_crosses(a, b, author_token, reader_token, post_id):
    got = {}

    def listen():
        conn = http.client.HTTPConnection(b.split("//")[1], timeout=15)
        conn.request("GET", "/api/v1/events", headers=bearer(author_token) | {"accept": "text/event-stream"})
        r = conn.getresponse()
        got["status"] = r.status
        buf = b""
        while b"event: comment.created" not in buf:
            chunk = r.read1(4096) if hasattr(r, "read1") else r.read(1)
            if not chunk:
                break
            buf += chunk
            if b"event: connected" in buf:
                got["connected"] = True
        got["seen"] = b"event: comment.created" in buf
        conn.close()

    t = threading.Thread(target=listen, daemon=True)
    t.start()
    eventually("the stream on B is open", lambda: got.get("connected"))
    s, _, body = request(a, "POST", f"/api/v1/posts/{post_id}/comments", {"body": "From node A"}, bearer(reader_token))
    expect(s == 201, f"comment on A: {s} {body[:200]}")
    t.join(10)
    expect(got.get("seen"), f"the notification raised on A reached the stream on B: {got}")


def stripe(base, event):
    body = json.dumps(event).encode()
    t = int(time.time())
    sig = hmac.new(STRIPE_SECRET.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    req = urllib.request.Request(base + "/api/webhooks/stripe", data=body, method="POST",
                                 headers={"content-type": "application/json", "stripe-signature": f"t={t},v1={sig}"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status


def psql(sql):
    return subprocess.run(["psql", DATABASE_URL, "-Atc", sql], check=True, capture_output=True, text=True).stdout.strip()


def jobs_run_once(a, b, user_ids):
    for i, uid in enumerate(user_ids):
        event = {"id": f"evt_multinode_{i}", "type": "checkout.session.completed",
                 "data": {"object": {"client_reference_id": str(uid), "customer": f"cus_multinode_{i}"}}}
        expect(stripe(a if i % 2 == 0 else b, event) == 200, "delivery accepted")
    eventually("every delivery processed", lambda: psql("SELECT COUNT(*) FROM jobs WHERE status = 'done'") == str(len(user_ids)), 20)
    expect(psql("SELECT MAX(attempts) FROM jobs") == "1", "each job ran once")
    expect(psql("SELECT COUNT(*) FROM audit_log WHERE action = 'billing.link'") == str(len(user_ids)), "each delivery applied once")


SERIES = ["http_requests_total", "http_request_duration_seconds_bucket", "http_requests_in_flight",
          "quire_sse_connections", "quire_job_queue_depth", "quire_job_runs_total", "quire_webhook_deliveries_total",
          "quire_rate_limit_refusals_total", "quire_cache_requests_total", "quire_db_pool_connections",
          "quire_db_pool_idle", "quire_redis_up"]


def metrics_have_every_series(base, metrics_base):
    s, _, body = request(metrics_base, "GET", "/metrics")
    text = body.decode()
    expect(s == 200, f"/metrics answers on the metrics listener: {s}")
    missing = [m for m in SERIES if m not in text]
    expect(not missing, f"/metrics has every series; missing: {missing}")
    expect('route="/api/v1/posts"' in text, "requests are labelled by route template")
    expect(request(base, "GET", "/metrics")[0] == 404, "/metrics is not on the public address")


def redis_up(metrics_base):
    body = request(metrics_base, "GET", "/metrics")[2].decode()
    return any(l.startswith("quire_redis_up ") and l.split()[-1] == "1" for l in body.splitlines())


def main():
    redis_port = free_port()
    redis = start_redis(redis_port)
    ports = [free_port() for _ in range(4)]
    a = start_node("a", ports[0], ports[1], redis_port)
    b = start_node("b", ports[2], ports[3], redis_port)
    ma, mb = f"http://127.0.0.1:{ports[1]}", f"http://127.0.0.1:{ports[3]}"
    eventually("both nodes reach Redis", lambda: redis_up(ma) and redis_up(mb))

    author_id, author = register(a, "author@example.com")
    # Pro: the free plan's three published posts would not last the test.
    subprocess.run([BINARY, "user", "set-plan", "--email", "author@example.com", "--plan", "pro"],
                   env=dict(os.environ, DATABASE_URL=DATABASE_URL, QUIRE_LOG="warn"), check=True, capture_output=True)
    reader_id, reader = register(b, "reader@example.com")
    others = [register(a if i % 2 else b, f"payer{i}@example.com")[0] for i in range(4)]

    say("one sign-in budget across both nodes")
    budget_is_shared(a, b)
    say("a write on A is on B's cached reads at once")
    post = cached_list_sees_write(a, b, author, "Written on A")
    request(b, "GET", "/")
    s, h, _ = request(b, "GET", "/")
    expect(h.get("x-cache") == "HIT", "B's front page is cached")
    new_post(a, author, "Front page news")
    s, h, body = request(b, "GET", "/")
    expect(b"Front page news" in body, "B's front page shows A's post at once")
    say("an event raised on A reaches an SSE client on B")
    sse_event_crosses(a, b, author, reader, post["id"])
    say("Stripe deliveries spread over both nodes run once each")
    jobs_run_once(a, b, others)
    say("/metrics on each node has every series")
    metrics_have_every_series(a, ma)
    metrics_have_every_series(b, mb)

    say("with Redis stopped, both nodes keep serving reads and writes")
    redis.terminate()
    redis.wait(5)
    for base in (a, b):
        expect(request(base, "GET", "/api/v1/posts")[0] == 200, f"read on {base}")
        expect(request(base, "GET", "/")[0] == 200, f"page on {base}")
    eventually("both nodes notice", lambda: not redis_up(ma) and not redis_up(mb))
    down = new_post(a, author, "Written while Redis is away")
    eventually("B sees it once its short-lived cache expires",
               lambda: b"Written while Redis is away" in request(b, "GET", "/api/v1/posts")[2], 10)
    expect(request(b, "GET", f"/api/v1/posts/{down['id']}")[0] == 200, "B reads it")

    say("with Redis back, sharing is restored")
    redis = start_redis(redis_port)
    eventually("both nodes reach Redis again", lambda: redis_up(ma) and redis_up(mb), 15)
    cached_list_sees_write(a, b, author, "Written after Redis returned")
    budget_is_shared(a, b)
    redis.terminate()
    redis.wait(5)
    print("multi-node checks passed", flush=True)


try:
    main()
except Exception as e:
    print(f"FAILED: {e}", flush=True)
    for name, p, log in procs:
        print(f"--- node {name} log (tail)")
        print("".join(open(log).readlines()[-30:]))
    sys.exit(1)
finally:
    for _, p, _ in procs:
        p.terminate()
    for _, p, _ in procs:
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
    for d in dirs:
        shutil.rmtree(d, ignore_errors=True)
