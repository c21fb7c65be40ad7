#!/usr/bin/env python3
"""Prints MB/s for every benchmark of the last `cargo bench` run and its fraction of the group's
`memmem_ceiling` (decode) or `memcpy_ceiling` (encode), from target/criterion/*/*/new/."""
import json
import pathlib
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "target/criterion")
for group in sorted(p for p in root.iterdir() if p.is_dir() and p.name != "report"):
    rows = {}
    for bench in group.rglob("new/benchmark.json"):
        meta = json.loads(bench.read_text())
        est = json.loads((bench.parent / "estimates.json").read_text())
        nbytes = (meta.get("throughput") or {}).get("Bytes")
        if not nbytes:
            continue
        seconds = est["mean"]["point_estimate"] / 1e9
        rows[meta["title"].split("/", 1)[1]] = nbytes / seconds / 1e6
    ceiling = next((v for k, v in rows.items() if k.endswith("_ceiling")), None)
    for name, mbps in sorted(rows.items()):
        frac = f"{100 * mbps / ceiling:6.1f}% of ceiling" if ceiling else ""
        print(f"{group.name:28} {name:20} {mbps:10.0f} MB/s  {frac}")
