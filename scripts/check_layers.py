#!/usr/bin/env python3
"""Checks Quire's module structure (issue 12's rules) from the `use crate::…` lines:

- no module imports from a layer above its own
  (ui > handlers, server_fns > middleware > services > db > models);
- no two modules import each other, and no longer import circles;
- no source file (src/, tests/) over 400 lines.

Exits 1 and lists what it found, otherwise prints a one-line summary.
"""
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
MAX_LINES = 400

# Layer ranks: a module may import from its own rank or below. Top-level files that wire the
# application together (startup, cli, main, lib) may import anything.
RANK = {
    "models": 0,
    "config": 1,
    "telemetry": 1,
    "db": 2,
    "error": 3,
    "services": 3,
    "state": 4,
    "middleware": 5,
    "handlers": 6,
    "server_fns": 6,
    "ui": 7,
    "startup": 9,
    "cli": 9,
    "main": 9,
    "lib": 9,
}

USE_RE = re.compile(r"\buse\s+(crate|super|self)::(\{[^;]*\}|[^;]*);", re.S)
PATH_RE = re.compile(r"\bcrate::([a-z_][a-z0-9_]*(?:::[a-z_][a-z0-9_]*)*)")


def module_of(path):
    rel = os.path.relpath(path, os.path.join(ROOT, "src"))
    parts = rel[:-3].split(os.sep)
    if parts[-1] == "mod":
        parts = parts[:-1]
    return parts


def targets(text, mod):
    """Module paths (lists) this file refers to through `crate::…`, `super::…` and `self::…`."""
    found = set()
    for m in USE_RE.finditer(text):
        base = {"crate": [], "super": list(mod[:-1]), "self": list(mod)}[m.group(1)]
        body = m.group(2).strip()
        expand(body, base, found)
    for m in PATH_RE.finditer(text):
        found.add(tuple(m.group(1).split("::")))
    return found


def expand(body, prefix, out):
    body = body.strip()
    if body.startswith("{") and body.endswith("}"):
        for item in split_top(body[1:-1]):
            expand(item, prefix, out)
        return
    if "::{" in body:
        head, rest = body.split("::{", 1)
        expand("{" + rest, prefix + head.split("::"), out)
        return
    name = body.split(" as ")[0].strip()
    if name:
        out.add(tuple(prefix + name.split("::")))


def split_top(s):
    items, depth, cur = [], 0, ""
    for ch in s:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        if ch == "," and depth == 0:
            items.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        items.append(cur)
    return items


def main():
    modules = {}
    for dirpath, _, files in os.walk(os.path.join(ROOT, "src")):
        for f in files:
            if f.endswith(".rs"):
                p = os.path.join(dirpath, f)
                modules[tuple(module_of(p))] = p
    names = set(modules)

    def resolve(path):
        # The longest prefix that is a module file.
        for n in range(len(path), 0, -1):
            if tuple(path[:n]) in names:
                return tuple(path[:n])
        return None

    problems = []
    edges = {}
    for mod, p in modules.items():
        text = open(p, encoding="utf-8").read()
        # Test modules may reach anywhere.
        text = re.split(r"#\[cfg\(test\)\]\s*mod tests", text)[0]
        for t in targets(text, mod):
            dst = resolve(list(t))
            if dst is None or dst == mod:
                continue
            # A parent module declaring/re-exporting its children is not an import.
            if dst[: len(mod)] == mod:
                continue
            edges.setdefault(mod, set()).add(dst)
            src_rank = RANK.get(mod[0], 9)
            dst_rank = RANK.get(dst[0], 9)
            if dst_rank > src_rank:
                problems.append(f"upward: {'::'.join(mod)} ({mod[0]}) imports {'::'.join(dst)} ({dst[0]})")

    # Import circles between modules (strongly connected components larger than one).
    index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                sccs.append(comp)

    sys.setrecursionlimit(10000)
    for v in list(modules):
        if v not in index:
            strong(v)
    for comp in sccs:
        problems.append("circle: " + " <-> ".join(sorted("::".join(m) for m in comp)))

    for top in ("src", "tests"):
        for dirpath, _, files in os.walk(os.path.join(ROOT, top)):
            for f in files:
                if f.endswith(".rs"):
                    p = os.path.join(dirpath, f)
                    n = sum(1 for _ in open(p, encoding="utf-8"))
                    if n > MAX_LINES:
                        problems.append(f"long: {os.path.relpath(p, ROOT)} has {n} lines (max {MAX_LINES})")

    for p in sorted(set(problems)):
        print(p)
    print(f"check_layers: {len(modules)} modules, {sum(len(v) for v in edges.values())} imports, {len(set(problems))} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
