#!/usr/bin/env python3
"""Memory per idle SSE connection: opens N event streams against a running Quire (bearer token),
waits for each `event: connected`, and reports the server's RSS before and after.
    scripts/bench/sse_memory.py <pid> <host> <port> <token> [connections]"""
import asyncio, sys

pid, host, port, token = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
n = int(sys.argv[5]) if len(sys.argv) > 5 else 2000

def rss_kib():
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])

async def connect():
    r, w = await asyncio.open_connection(host, port)
    w.write(f"GET /api/v1/events HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n".encode())
    await w.drain()
    buf = b""
    while b"event: connected" not in buf:
        chunk = await r.read(4096)
        if not chunk:
            raise RuntimeError(buf.decode(errors="replace"))
        buf += chunk
    return r, w

async def main():
    # Warm up (pools, caches), then measure.
    warm = [await connect() for _ in range(50)]
    for _, w in warm:
        w.close()
    await asyncio.sleep(1)
    before = rss_kib()
    conns = []
    for i in range(0, n, 100):
        conns += await asyncio.gather(*[connect() for _ in range(min(100, n - i))])
    await asyncio.sleep(2)
    after = rss_kib()
    print(f"{n} idle SSE connections: RSS {before} KiB -> {after} KiB, {(after - before) * 1024 / n:.0f} bytes per connection")
    for _, w in conns:
        w.close()
    await asyncio.sleep(3)
    closed = rss_kib()
    print(f"after closing them: RSS {closed} KiB (freed memory stays with the allocator)")
    # A second round reuses what the first freed: growth now would be a leak.
    conns = []
    for i in range(0, n, 100):
        conns += await asyncio.gather(*[connect() for _ in range(min(100, n - i))])
    await asyncio.sleep(2)
    again = rss_kib()
    print(f"{n} connections again: RSS {again} KiB ({(again - after) * 1024 / n:+.0f} bytes per connection against the first round)")
    for _, w in conns:
        w.close()

asyncio.run(main())
