#!/usr/bin/env python3
"""What a first visit to each page downloads for the browser, brotli-compressed.

    scripts/bench/bundle.py BASE_URL PKG_DIR [SESSION_COOKIE]

Every page loads the shell's files (the JS loader, the main wasm, the split loader, the CSS);
a page with islands also loads, for each island, the wasm chunks the split manifest lists
for it (chunks shared by two islands on one page are counted once). Pages are fetched as
they are served, anonymously and, with SESSION_COOKIE, signed in; sizes are those of the
precompressed `.br` files the server sends.
"""
import json
import os
import re
import sys
import urllib.request

base, pkg = sys.argv[1].rstrip("/"), sys.argv[2]
session = sys.argv[3] if len(sys.argv) > 3 else ""
manifest = json.load(open(os.path.join(pkg, "__wasm_split_manifest.json")))


def br(name):
    return os.path.getsize(os.path.join(pkg, name + ".br"))


def get(path, cookie=""):
    req = urllib.request.Request(base + path, headers={"Accept": "text/html", **({"Cookie": cookie} if cookie else {})})
    with urllib.request.urlopen(req) as res:
        return res.read().decode()


def snake(name):
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def first_visit(html):
    files = {"quire.js", "quire.wasm", "quire.css", "__wasm_split.______________________.js"}
    islands = sorted(set(re.findall(r'<leptos-island data-component="(\w+?)_\d+"', html)))
    for island in islands:
        key = next(k for k in manifest if k.startswith(snake(island) + "_loader_"))
        files |= {c + ".wasm" for c in manifest[key]}
    return sum(br(f) for f in files), islands


slug = json.loads(urllib.request.urlopen(base + "/api/v1/posts?limit=1").read())["data"][0]["slug"]
pages = [("/", ""), (f"/posts/{slug}", "")]
if session:
    pages += [("/", session), (f"/posts/{slug}", session), ("/dashboard", session), ("/dashboard/posts/new", session)]
print(f"| {'first visit (brotli: wasm, JS, CSS)':<44} | {'kB':>7} | islands")
print(f"|{'-' * 46}|{'-' * 9}|---------")
for path, cookie in pages:
    size, islands = first_visit(get(path, cookie))
    who = "signed in" if cookie else "anonymous"
    label = ("/posts/{slug}" if path.startswith("/posts/") else path) + f" ({who})"
    print(f"| {label:<44} | {size / 1000:7.1f} | {', '.join(islands) or '-'}")
