#!/usr/bin/env python3
"""Fails when a locked dependency declares a `rust-version` newer than ours.

A `cargo +MSRV build` is not possible on our machines (one toolchain), so the promise in
Cargo.toml's `rust-version` is checked against what every crate in Cargo.lock declares, for the
platform CI builds on.
"""
import json
import subprocess
import sys


def parse(v):
    parts = [int(p) for p in v.split(".")]
    return tuple(parts + [0] * (3 - len(parts)))


meta = json.loads(
    subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--locked",
         "--filter-platform", "x86_64-unknown-linux-gnu"],
        check=True, capture_output=True, text=True,
    ).stdout
)
members = set(meta["workspace_members"])
ours = {p["rust_version"] for p in meta["packages"] if p["id"] in members}
if len(ours) != 1 or None in ours:
    sys.exit(f"every workspace member must declare the same rust-version, found {sorted(map(str, ours))}")
msrv = ours.pop()
# Only what the workspace actually builds on this platform: walk the resolve graph.
nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
seen, todo = set(), list(members)
while todo:
    pid = todo.pop()
    if pid in seen:
        continue
    seen.add(pid)
    todo.extend(d["pkg"] for d in nodes[pid]["deps"])
too_new = sorted(
    (p["name"], p["version"], p["rust_version"])
    for p in meta["packages"]
    if p["id"] in seen and p["id"] not in members
    and p["rust_version"] and parse(p["rust_version"]) > parse(msrv)
)
for name, version, rv in too_new:
    print(f"error: {name} {version} needs Rust {rv}, newer than our rust-version {msrv}")
if too_new:
    sys.exit(1)
print(f"rust-version {msrv}: all {len(seen) - len(members)} locked dependencies declare {msrv} or older (or nothing)")
