#!/usr/bin/env python3
"""Prints MB/s (from the median time) for every benchmark of the last `cargo bench` run and its fraction of the group's
`memmem_ceiling` (decode) or `memcpy_ceiling` (encode), from target/criterion/*/*/new/. For the peer groups
(`peers_*`, benches/peers.rs) it also prints our decoder's ratio to the fastest peer, to both ceilings, and
streaming's fraction of whole-buffer decoding, and httparse's speed on the embedded heads alone.

`--baseline NAME` reads a run saved with `cargo bench ... -- --save-baseline NAME` instead of the last run, so that
several runs of a noisy machine can be compared: `python3 benches/fractions.py --baseline run1`."""
import json
import pathlib
import sys

PEERS = ("multer", "mail_parser", "mailparse")

args = sys.argv[1:]
run = "new"
if "--baseline" in args:
    i = args.index("--baseline")
    run = args[i + 1]
    del args[i:i + 2]
root = pathlib.Path(args[0] if args else "target/criterion")
summary = []
for group in sorted(p for p in root.iterdir() if p.is_dir() and p.name != "report"):
    rows = {}
    for bench in group.rglob(f"{run}/benchmark.json"):
        meta = json.loads(bench.read_text())
        est = json.loads((bench.parent / "estimates.json").read_text())
        nbytes = (meta.get("throughput") or {}).get("Bytes")
        if not nbytes:
            continue
        # The median: on a shared machine a few slow samples move the mean, not the median.
        seconds = est["median"]["point_estimate"] / 1e9
        rows[meta["title"].split("/", 1)[1]] = nbytes / seconds / 1e6
    ceiling = rows.get("memmem_ceiling") or rows.get("memcpy_ceiling")
    for name, mbps in sorted(rows.items()):
        frac = f"{100 * mbps / ceiling:6.1f}% of ceiling" if ceiling else ""
        print(f"{group.name:28} {name:24} {mbps:10.0f} MB/s  {frac}")
    if group.name.startswith("peers_") and "odata_batch_whole" in rows:
        ours = rows["odata_batch_whole"]
        peers = {p: rows[p] for p in PEERS if p in rows}
        fastest = max(peers, key=peers.get) if peers else None
        summary.append((
            group.name[len("peers_"):],
            ours,
            f"{fastest} {peers[fastest]:.0f}" if fastest else "-",
            f"{ours / peers[fastest]:.1f}x" if fastest else "-",
            f"{100 * ours / rows['memmem_ceiling']:.1f}%" if "memmem_ceiling" in rows else "-",
            f"{100 * ours / rows['line_end_ceiling']:.1f}%" if "line_end_ceiling" in rows else "-",
            f"{100 * rows['odata_batch_chunks_64k'] / ours:.0f}%" if "odata_batch_chunks_64k" in rows else "-",
            f"{100 * rows['odata_batch_bytes_chunks_64k'] / ours:.0f}%" if "odata_batch_bytes_chunks_64k" in rows else "-",
            f"{rows['httparse_embedded_heads_only']:.0f}" if "httparse_embedded_heads_only" in rows else "-",
        ))
if summary:
    print()
    # The last column: httparse alone on the embedded heads, per byte of the whole batch (its time against the
    # batch's size), next to our reading of everything.
    print("| payload | odata-batch MB/s | fastest peer MB/s | ratio | of memmem ceiling | of line-end ceiling | 64 KiB chunks (BytesMut) / whole | 64 KiB Bytes chunks (ChunkedInput) / whole | httparse, heads only, MB/s |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for row in summary:
        print(f"| {row[0]} | {row[1]:.0f} | {row[2]} | {row[3]} | {row[4]} | {row[5]} | {row[6]} | {row[7]} | {row[8]} |")
