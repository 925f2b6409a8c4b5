#!/usr/bin/env python3
"""Sync benchmark: a no-change `ofsync sync` of a share of many small files,
against one recursive listing of the same share by smbclient (`recurse; ls`),
the enumeration limit.  Also the first sync (which brings every item in) and
a sync-in after 1% of the files changed on the server.

Sizes: BENCH_SYNC_FILES (default 100000) files in BENCH_SYNC_DIRS (default
1000) directories; `make bench-quick` uses 10000 in 100.  Median of
BENCH_RUNS (default 3).  Writes bench/results-sync.json.  A measurement,
no assertion.
"""

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "integration"))
import harness  # noqa: E402

FILES = int(os.environ.get("BENCH_SYNC_FILES", "100000"))
DIRS = int(os.environ.get("BENCH_SYNC_DIRS", "1000"))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))


def timed(argv, timeout=3600):
    t = time.monotonic()
    r = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=timeout)
    if r.returncode != 0:
        raise SystemExit(f"{argv[:4]}... failed ({r.returncode}): {r.stderr.decode()[-500:]}")
    return time.monotonic() - t


def main():
    tmp = Path(tempfile.mkdtemp(prefix="ofsync-bench-sync-"))
    srv = daemons = None
    try:
        srv = harness.SmbServer(tmp / "smb").start()
        per = FILES // DIRS
        for d in range(DIRS):
            dd = srv.backing / f"d{d:04d}"
            dd.mkdir()
            for f in range(per):
                (dd / f"f{f:04d}.txt").write_bytes(b"x")
        daemons = harness.DaemonFactory(tmp / "d")
        (tmp / "d").mkdir()
        m = daemons.mount(srv, attr_timeout=60)
        ofsync = [str(harness.build_dir() / "ofsync"), "--socket", str(m.socket)]
        first = timed(ofsync + ["sync", "--in"])
        listing = [timed([harness.SMBCLIENT, "-N", "-p", str(srv.port), "//127.0.0.1/share",
                          "-c", "recurse; ls"]) for _ in range(RUNS)]
        nochange = [timed(ofsync + ["sync"]) for _ in range(RUNS)]
        changed = []
        for run in range(RUNS):
            t = time.time() + 10 + run
            for i in range(0, FILES, 100):  # 1%
                p = srv.backing / f"d{(i // per):04d}" / f"f{(i % per):04d}.txt"
                p.write_bytes(b"changed %d" % run)
                os.utime(p, (t, t))
            changed.append(timed(ofsync + ["sync", "--in"]))
        med = {"first_sync": first, "smbclient_recurse_ls": statistics.median(listing),
               "nochange_sync": statistics.median(nochange),
               "syncin_1pct": statistics.median(changed)}
        print(f"\n{FILES} files in {DIRS} directories, median of {RUNS} runs\n")
        print("| figure | ofsync | limit (smbclient recurse; ls) | ratio (ours / limit) |")
        print("|---|---|---|---|")
        lim = med["smbclient_recurse_ls"]
        for k, name in (("nochange_sync", "no-change sync"), ("syncin_1pct", "sync-in, 1% changed"),
                        ("first_sync", "first sync (all items in)")):
            print(f"| {name} | {med[k]:.2f} s | {lim:.2f} s | {med[k] / lim:.2f} |")
        (HERE / "results-sync.json").write_text(json.dumps(
            {"files": FILES, "dirs": DIRS, "listing": listing, "nochange": nochange,
             "changed": changed, "median": med}, indent=2) + "\n")
    finally:
        if daemons:
            daemons.cleanup()
        if srv:
            srv.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
